# SPDX-License-Identifier: Apache-2.0
"""The C enums as IntEnum, with values read from the compiled library so the
two cannot drift apart."""
from __future__ import annotations

import enum
from typing import Type, TypeVar, Union

from . import capi

E = TypeVar("E", bound=enum.IntEnum)


class ErrorCode(enum.IntEnum):
    OK = capi.DEVKIT_OK
    ERROR = capi.DEVKIT_ERROR
    EINVAL = capi.DEVKIT_EINVAL
    ENOMEM = capi.DEVKIT_ENOMEM
    EIO = capi.DEVKIT_EIO
    ETIMEOUT = capi.DEVKIT_ETIMEOUT
    ENOTFOUND = capi.DEVKIT_ENOTFOUND
    ECONNREFUSED = capi.DEVKIT_ECONNREFUSED
    EHOSTKEY = capi.DEVKIT_EHOSTKEY
    EAUTH = capi.DEVKIT_EAUTH
    EPROTO = capi.DEVKIT_EPROTO
    ECLOSED = capi.DEVKIT_ECLOSED
    EEXISTS = capi.DEVKIT_EEXISTS
    EUNSUPPORTED = capi.DEVKIT_EUNSUPPORTED
    EFORBIDDEN = capi.DEVKIT_EFORBIDDEN


class LogLevel(enum.IntEnum):
    ERROR = capi.DEVKIT_LOG_ERROR
    WARN = capi.DEVKIT_LOG_WARN
    INFO = capi.DEVKIT_LOG_INFO
    DEBUG = capi.DEVKIT_LOG_DEBUG
    TRACE = capi.DEVKIT_LOG_TRACE


class EventType(enum.IntEnum):
    NONE = capi.DEVKIT_EVENT_NONE
    TUNNEL_STATE = capi.DEVKIT_EVENT_TUNNEL_STATE
    FORWARD_READY = capi.DEVKIT_EVENT_FORWARD_READY
    FORWARD_FAILED = capi.DEVKIT_EVENT_FORWARD_FAILED
    EVENTS_DROPPED = capi.DEVKIT_EVENT_EVENTS_DROPPED
    LOG = capi.DEVKIT_EVENT_LOG
    REGISTRATION_STATE = capi.DEVKIT_EVENT_REGISTRATION_STATE
    REPLICA_STAGE = capi.DEVKIT_EVENT_REPLICA_STAGE


class TunnelState(enum.IntEnum):
    CONNECTING = capi.DEVKIT_TUNNEL_CONNECTING
    UP = capi.DEVKIT_TUNNEL_UP
    RECONNECTING = capi.DEVKIT_TUNNEL_RECONNECTING
    DOWN = capi.DEVKIT_TUNNEL_DOWN
    CLOSED = capi.DEVKIT_TUNNEL_CLOSED


class RegistrationState(enum.IntEnum):
    REGISTERING = capi.DEVKIT_REGISTRATION_REGISTERING    # first attempt in flight
    REGISTERED = capi.DEVKIT_REGISTRATION_REGISTERED      # in the registry, heartbeats flowing
    RETRYING = capi.DEVKIT_REGISTRATION_RETRYING          # registry unreachable or failing
    LOST = capi.DEVKIT_REGISTRATION_LOST                  # the registry forgot it: re-registering
    FAILED = capi.DEVKIT_REGISTRATION_FAILED              # refused for good: no more attempts
    DEREGISTERED = capi.DEVKIT_REGISTRATION_DEREGISTERED  # removed on close


class ReplicaStage(enum.IntEnum):
    CREATED = capi.DEVKIT_REPLICA_CREATED                    # the API server accepted the Pod
    SCHEDULED = capi.DEVKIT_REPLICA_SCHEDULED                # a node was chosen
    INITIALIZED = capi.DEVKIT_REPLICA_INITIALIZED            # init containers done
    CONTAINERS_READY = capi.DEVKIT_REPLICA_CONTAINERS_READY
    READY = capi.DEVKIT_REPLICA_READY
    FAILED = capi.DEVKIT_REPLICA_FAILED                      # cannot get further (message says why)
    DELETED = capi.DEVKIT_REPLICA_DELETED


class ReplicaSource(enum.IntEnum):
    POD = capi.DEVKIT_REPLICA_FROM_POD
    DEPLOYMENT = capi.DEVKIT_REPLICA_FROM_DEPLOYMENT
    STATEFULSET = capi.DEVKIT_REPLICA_FROM_STATEFULSET
    DAEMONSET = capi.DEVKIT_REPLICA_FROM_DAEMONSET


class HostKeyPolicy(enum.IntEnum):
    STRICT = capi.DEVKIT_HOST_KEY_STRICT
    ACCEPT_NEW = capi.DEVKIT_HOST_KEY_ACCEPT_NEW


class ForwardKind(enum.IntEnum):
    LOCAL = capi.DEVKIT_FORWARD_LOCAL
    DYNAMIC = capi.DEVKIT_FORWARD_DYNAMIC
    REMOTE = capi.DEVKIT_FORWARD_REMOTE


def to_enum(cls: Type[E], value: int) -> Union[E, int]:
    """The member for `value`, or the plain int for a value a newer C library added."""
    try:
        return cls(value)
    except ValueError:
        return value
