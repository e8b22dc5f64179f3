#include "config.h"

#include "md-transport.h"

guint
md_transport_receive (MdTransport *self, MdDatagram *datagrams, guint max)
{
  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (datagrams != NULL, 0);
  g_return_val_if_fail (max <= MD_TRANSPORT_RECEIVE_MAX, 0);

  return self->klass->receive (self, datagrams, max);
}

void
md_transport_send (MdTransport *self, const MdOutgoing *datagrams, guint n)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (datagrams != NULL || n == 0);

  if (n > 0)
    self->klass->send (self, datagrams, n);
}

int
md_transport_get_fd (MdTransport *self)
{
  g_return_val_if_fail (self != NULL, -1);

  return self->fd;
}

gboolean
md_transport_proves_address (const MdPeer *peer)
{
  g_return_val_if_fail (peer != NULL, FALSE);

  return peer->transport != NULL && peer->transport->klass->proves_address;
}

void
md_transport_free (MdTransport *self)
{
  if (self != NULL)
    self->klass->free (self);
}
