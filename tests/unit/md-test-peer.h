/* Peers for unit tests that need addresses but no traffic. */
#pragma once

#include "md-peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static inline MdPeer
md_test_peer4 (int fd, const char *address, guint16 port)
{
  MdPeer peer = { .fd = fd, .addr_len = sizeof (struct sockaddr_in) };
  struct sockaddr_in *sin = (struct sockaddr_in *)&peer.addr;

  sin->sin_family = AF_INET;
  sin->sin_port = htons (port);
  g_assert_cmpint (inet_pton (AF_INET, address, &sin->sin_addr), ==, 1);
  return peer;
}

static inline MdPeer
md_test_peer6 (int fd, const char *address, guint16 port)
{
  MdPeer peer = { .fd = fd, .addr_len = sizeof (struct sockaddr_in6) };
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&peer.addr;

  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons (port);
  g_assert_cmpint (inet_pton (AF_INET6, address, &sin6->sin6_addr), ==, 1);
  return peer;
}
