/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a Pod's status and its events, for every area that needs to say
 * why a Pod is where it is: the diagnostics report here, and pod replication
 * (src/replica waits for its copy and explains a copy that is stuck). Pure
 * functions of the JSON the API server returns, so that each case is a unit
 * test. This header is src/diag's interface to other areas.
 */
#ifndef DEVKIT_DIAG_POD_STATUS_H
#define DEVKIT_DIAG_POD_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* --- the Pod ----------------------------------------------------------------- */

/* The condition of that type ("PodScheduled", "Ready"...), or NULL. */
const json_t *devkit__diag_condition(const json_t *pod, const char *type);
/* 1 if that condition's status is "True". */
int devkit__diag_condition_true(const json_t *pod, const char *type);
/* 1 for a container waiting reason that does not go away by waiting: the
 * image cannot be had, the container keeps crashing, its configuration is
 * wrong ("ImagePullBackOff", "CrashLoopBackOff", "CreateContainerConfigError"...). */
int devkit__diag_stuck_reason(const char *reason);
/* "PodScheduled=True, Initialized=True, ContainersReady=False (ContainersNotReady:
 * ...), Ready=False"; "none reported yet" without conditions. */
void devkit__diag_conditions_text(const json_t *pod, char *out, size_t cap);
/* "container web waiting: ContainerCreating; ..." for every waiting (or,
 * for app containers, terminated) container; "" when none. */
void devkit__diag_waiting_text(const json_t *pod, char *out, size_t cap);

/* --- events ------------------------------------------------------------------ */

/* When an event last happened, as written: series.lastObservedTime,
 * lastTimestamp, eventTime, firstTimestamp, metadata.creationTimestamp (or
 * "time" of the diagnostics' compact events), the first that is set ("" when
 * none). */
const char *devkit__diag_event_time(const json_t *ev);
/* The same in milliseconds since the epoch (0 when none or unreadable). Not
 * as strings: "…:23.5Z" (eventTime) is later than "…:23Z" (lastTimestamp)
 * but sorts before it. */
int64_t devkit__diag_event_time_ms(const json_t *ev);
/* 1 if the event is about the object: involvedObject.name is `name`, its
 * kind is `kind` (NULL: "Pod"; an event without a kind matches), and when
 * both `uid` and the event's involvedObject.uid are set, they are equal. */
int devkit__diag_event_about(const json_t *ev, const char *kind, const char *name,
	const char *uid);
/* Sort an array of events by time, oldest first; equal times (core events
 * keep whole seconds) by the nanoseconds in client-go's event names, else
 * stable. */
void devkit__diag_events_sort(json_t *events);
/* The latest `max` events about Pod `name` of an EventList, oldest first,
 * as "Normal Scheduled: ...; Warning Failed (x6): ..."; "none" when there
 * are none. Filtered here: not every server honours fieldSelector. */
void devkit__diag_events_text(const json_t *event_list, const char *name, int max,
	char *out, size_t cap);
/* 1 if the events say the cluster autoscaler is adding a node for Pod `name`. */
int devkit__diag_events_scale_up(const json_t *event_list, const char *name);
/* The container an event is about, from involvedObject.fieldPath
 * ("spec.containers{web}", "spec.initContainers{migrate}"), into out; 0, or -1
 * when it names none. */
int devkit__diag_event_container(const json_t *ev, char *out, size_t cap);
/* The stage an event belongs to (devkit_diag_stage), from its reason and,
 * for reasons used at several stages ("Failed", "BackOff", "Killing"), its
 * message. */
int devkit__diag_event_stage(const json_t *ev);

#endif
