/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control protocol between the LD_PRELOAD shim (libdevkit_preload.so, in
 * a routed process) and the engine (devkit run). Shared by both sides; the
 * shim includes nothing else from libdevkit.
 *
 * Transport: a unix stream socket at the path in $DEVKIT_CONTROL. One request
 * line, one response line, ASCII, '\n'-terminated, at most
 * DEVKIT_CONTROL_MAX_LINE bytes. A connection may carry many requests in turn.
 *
 *   RESOLVE <name> <family>          family: 4, 6 or 0 (either)
 *     -> OK <ip> [<ip> ...]          addresses in text form, at most 16
 *     -> NXDOMAIN
 *     -> ERROR <message>
 *
 *   ROUTE <src_port> <dst_ip> <dst_port>
 *     The shim has bound the application's socket to the loopback address of
 *     its family (127.0.0.1 or ::1) port <src_port>, and is about to connect it
 *     to the engine's redirect port instead of <dst_ip>:<dst_port>. The engine
 *     remembers the destination for that source port and answers at once:
 *     -> OK <redirect_port>          connect to 127.0.0.1 / ::1 at this port
 *     -> ERROR <message>
 *     For a blocking socket the shim sends OPEN instead, which waits for the
 *     channel to the destination, so that a refused destination is a refused
 *     connect() (ECONNREFUSED), as it would be without the shim:
 *   OPEN <src_port> <dst_ip> <dst_port>
 *     -> OK <redirect_port>          the channel is open and waits for the socket
 *     -> REFUSED <message>           connect() fails with ECONNREFUSED
 *     -> UNREACHABLE <message>       ENETUNREACH
 *     -> TIMEOUT <message>           ETIMEDOUT
 *     -> ERROR <message>             ECONNREFUSED
 *
 * A non-blocking connect (EINPROGRESS) completes when the redirect listener
 * accepts; if the channel then cannot be opened, the engine resets the
 * connection (the application sees ECONNRESET on its first read or write).
 *
 * Environment given to the routed process by devkit run:
 *   LD_PRELOAD            the shim
 *   DEVKIT_CONTROL        the control socket's path
 *   DEVKIT_ROUTE_CIDRS    comma-separated CIDRs routed through the tunnel
 *   DEVKIT_ROUTE_DOMAINS  comma-separated name suffixes resolved (and routed) remotely
 *   DEVKIT_SEARCH         comma-separated search list for short names
 *   DEVKIT_NDOTS          names with fewer dots try the search list first
 * If the control socket cannot be reached, routed connects fail with
 * ECONNREFUSED: traffic meant for the cloud never leaks elsewhere.
 */
#ifndef DEVKIT_PRELOAD_CONTROL_H
#define DEVKIT_PRELOAD_CONTROL_H

#define DEVKIT_CONTROL_MAX_LINE 1024
#define DEVKIT_CONTROL_MAX_ADDRS 16

#endif
