#include "config.h"

#include "md-client-observe.h"

#include <string.h>

#include "md-client-private.h"

struct _MdClientObservation
{
  MdClient *client;
  char *path;
  guint8 token[MD_CLIENT_TOKEN_LEN];
  MdClientNotifyFunc func;
  gpointer user_data;
  guint listener_id;
  GPtrArray *registering; /* GTasks in flight: their answers are theirs */
};

static gboolean
is_notification (MdClientObservation *observation, const MdCoapMessage *msg)
{
  return (msg->type == MD_COAP_TYPE_CON || msg->type == MD_COAP_TYPE_NON)
         && MD_COAP_CODE_CLASS (msg->code) >= 2 && MD_COAP_CODE_CLASS (msg->code) <= 5
         && msg->token_len == MD_CLIENT_TOKEN_LEN
         && memcmp (msg->token, observation->token, MD_CLIENT_TOKEN_LEN) == 0;
}

static gboolean
on_message (const MdCoapMessage *msg, gpointer data)
{
  MdClientObservation *observation = data;
  g_autoptr (MdClientResponse) notification = NULL;

  if (observation->registering->len > 0 || !is_notification (observation, msg))
    return FALSE;
  notification = md_client_response_new (msg);
  observation->func (notification, observation->user_data);
  return TRUE;
}

MdClientObservation *
md_client_observation_new (MdClient *client, const char *path, MdClientNotifyFunc func,
                           gpointer user_data)
{
  MdClientObservation *observation;

  g_return_val_if_fail (client != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  observation = g_new0 (MdClientObservation, 1);
  observation->client = md_client_ref (client);
  observation->path = g_strdup (path);
  md_client_make_token (client, observation->token);
  observation->func = func;
  observation->user_data = user_data;
  observation->listener_id = md_client_add_listener (client, on_message, NULL, observation);
  observation->registering = g_ptr_array_new ();
  return observation;
}

void
md_client_observation_free (MdClientObservation *observation)
{
  if (observation == NULL)
    return;
  md_client_remove_listener (observation->client, observation->listener_id);
  /* Registrations still in flight finish without it. */
  for (guint i = 0; i < observation->registering->len; i++)
    g_task_set_task_data (g_ptr_array_index (observation->registering, i), NULL, NULL);
  g_ptr_array_unref (observation->registering);
  md_client_unref (observation->client);
  g_free (observation->path);
  g_free (observation);
}

static void
on_registered (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GTask) task = data;
  MdClientObservation *observation = g_task_get_task_data (task);
  GError *error = NULL;
  MdClientResponse *response = md_client_request_finish (NULL, result, &error);

  if (observation != NULL)
    g_ptr_array_remove (observation->registering, task);
  if (response == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, response, (GDestroyNotify)md_client_response_free);
}

void
md_client_observation_register_async (MdClientObservation *observation, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;

  g_return_if_fail (observation != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, md_client_observation_register_async);
  g_task_set_task_data (task, observation, NULL);
  g_ptr_array_add (observation->registering, task);
  md_client_request_async (observation->client,
                           &(MdClientRequest){
                               .method = MD_COAP_GET,
                               .path = observation->path,
                               .observe = TRUE,
                               .token = observation->token,
                           },
                           cancellable, on_registered, task);
}

MdClientResponse *
md_client_observation_register_finish (MdClientObservation *observation, GAsyncResult *result,
                                       GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
