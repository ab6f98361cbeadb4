/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The failure classes the report recognises: one row each, data only.
 * analyze.c matches rows against what the Pod says (events, the
 * PodScheduled condition, container states, the Pod's status reason, its
 * deletion) and fills the templates with template.c; docs/diagnostics.md
 * shows this table to people. Adding a class is adding a row (and a
 * recorded sample under tests/diag/samples that proves it).
 *
 * The words come from what the components write: the scheduler's
 * FailedScheduling messages (pkg/scheduler/framework/plugins: "Insufficient
 * cpu", "node(s) had untolerated taint {k: v}", "pod has unbound immediate
 * PersistentVolumeClaims"), the kubelet's image puller (the container
 * runtime's "not found" / "manifest unknown" against "pull access denied" /
 * "401 Unauthorized"), its volume manager ("MountVolume.SetUp failed for
 * volume \"v\" : configmap \"c\" not found"), its prober ("Liveness probe
 * failed: ...") and its eviction manager ("The node was low on resource:
 * memory.").
 *
 * Order is priority: the first finding at the Pod's own stage becomes the
 * summary; within a family (image, mount) the specific rows come first and
 * the generic row is kept only for a container no specific row explained.
 */
#include "diag_int.h"

static const char *const insufficient_cpu[] = { "Insufficient cpu", NULL };
static const char *const insufficient_memory[] = { "Insufficient memory", NULL };
static const char *const taints[] = {
	"untolerated taint", "taints that the pod didn't tolerate", "had taint {", NULL,
};
static const char *const selector[] = {
	"didn't match Pod's node affinity", "didn't match node selector",
	"didn't match pod affinity", "didn't match pod anti-affinity", NULL,
};
static const char *const unbound[] = {
	"unbound immediate PersistentVolumeClaims", "unbound PersistentVolumeClaims",
	"persistentvolumeclaim \"", "didn't find available persistent volumes to bind", NULL,
};
/* The registry said who is asking is not allowed. Docker Hub words a
 * repository that does not exist the same way ("pull access denied ...
 * repository does not exist or may require authorization"): the
 * explanation says so. Checked before not-found for that reason. */
static const char *const pull_auth[] = {
	"pull access denied", "unauthorized", "authentication required", "403 Forbidden",
	"denied: ", "no basic auth credentials", "authorization failed",
	"failed to fetch anonymous token", NULL,
};
static const char *const pull_not_found[] = {
	"not found", "manifest unknown", "code = NotFound", "name unknown",
	"repository name not known", NULL,
};
static const char *const configmap[] = { "configmap \"", "configmaps \"", NULL };
static const char *const secret[] = { "secret \"", "secrets \"", NULL };
static const char *const liveness[] = { "Liveness probe failed", "Liveness probe errored",
	"failed liveness probe", NULL };
static const char *const readiness[] = { "Readiness probe failed", "Readiness probe errored",
	NULL };
static const char *const startup[] = { "Startup probe failed", "Startup probe errored",
	"failed startup probe", NULL };

const devkit__diag_rule devkit__diag_rules[] = {
	{
		.id = "insufficient-cpu", .stage = DEVKIT_DIAG_SCHEDULING,
		.title = "not enough free CPU on any node",
		.sources = DEVKIT__SIG_EVENT | DEVKIT__SIG_SCHEDULING,
		.reasons = "FailedScheduling|Unschedulable",
		.any = insufficient_cpu,
		.when = DEVKIT__WHEN_UNSCHEDULED,
		.explain =
			"No node has enough unreserved CPU for this Pod. The scheduler adds up the CPU "
			"requests of the Pods already on each node; this Pod asks for {requests_cpu} more "
			"than any node has left. The scheduler said: {message}",
		.fix =
			"Lower resources.requests.cpu to what the service needs, delete Pods you no longer "
			"use (`devkit gc` deletes expired replicas), or ask for more nodes; `kubectl "
			"describe nodes` shows what each node has allocated.",
	},
	{
		.id = "insufficient-memory", .stage = DEVKIT_DIAG_SCHEDULING,
		.title = "not enough free memory on any node",
		.sources = DEVKIT__SIG_EVENT | DEVKIT__SIG_SCHEDULING,
		.reasons = "FailedScheduling|Unschedulable",
		.any = insufficient_memory,
		.when = DEVKIT__WHEN_UNSCHEDULED,
		.explain =
			"No node has enough unreserved memory for this Pod. The scheduler adds up the "
			"memory requests of the Pods already on each node; this Pod asks for "
			"{requests_memory} more than any node has left. The scheduler said: {message}",
		.fix =
			"Lower resources.requests.memory to what the service really uses, delete Pods you "
			"no longer use (`devkit gc` deletes expired replicas), or ask for more nodes; "
			"`kubectl describe nodes` shows what each node has allocated.",
	},
	{
		.id = "untolerated-taint", .stage = DEVKIT_DIAG_SCHEDULING,
		.title = "the nodes have taints the Pod does not tolerate",
		.sources = DEVKIT__SIG_EVENT | DEVKIT__SIG_SCHEDULING,
		.reasons = "FailedScheduling|Unschedulable",
		.any = taints,
		.when = DEVKIT__WHEN_UNSCHEDULED,
		.explain =
			"Nodes that could take this Pod carry a taint it does not tolerate ({taints}). A "
			"taint keeps every Pod away from a node unless the Pod declares a matching "
			"toleration: control-plane nodes, dedicated (GPU, team) nodes and nodes that are "
			"not ready or being drained have one. The scheduler said: {message}",
		.fix =
			"If the Pod may run there, add a toleration for {taints} to its template; "
			"otherwise make room on nodes without the taint. `kubectl describe nodes | grep "
			"Taints` lists them.",
	},
	{
		.id = "node-selector-mismatch", .stage = DEVKIT_DIAG_SCHEDULING,
		.title = "no node matches the Pod's node selector or affinity",
		.sources = DEVKIT__SIG_EVENT | DEVKIT__SIG_SCHEDULING,
		.reasons = "FailedScheduling|Unschedulable",
		.any = selector,
		.when = DEVKIT__WHEN_UNSCHEDULED,
		.explain =
			"The Pod may only run on nodes with certain labels (spec.nodeSelector or "
			"affinity: {node_selector}) and no node that has room has them. The scheduler said: "
			"{message}",
		.fix =
			"Compare the Pod's nodeSelector/affinity with `kubectl get nodes --show-labels`; "
			"a copy made with devkit replicate --node NAME is pinned to that node.",
	},
	{
		.id = "unbound-pvc", .stage = DEVKIT_DIAG_SCHEDULING,
		.title = "a PersistentVolumeClaim is not bound",
		.sources = DEVKIT__SIG_EVENT | DEVKIT__SIG_SCHEDULING,
		.reasons = "FailedScheduling|Unschedulable",
		.any = unbound,
		.when = DEVKIT__WHEN_UNSCHEDULED,
		.explain =
			"The Pod mounts the PersistentVolumeClaim {claims}, which is not bound to a volume, "
			"and a Pod cannot be placed until its claims are. Either no PersistentVolume "
			"matches the claim and nothing provisions one (no default StorageClass, a "
			"StorageClass that does not exist, a size or access mode nobody offers), or the "
			"claim does not exist. The scheduler said: {message}",
		.fix =
			"`kubectl describe pvc {claims}` says why it is Pending. Give it a StorageClass "
			"that has a provisioner (`kubectl get storageclass`) or create a matching "
			"PersistentVolume.",
	},
	{
		.id = "image-pull-auth", .stage = DEVKIT_DIAG_STARTUP,
		.title = "the registry refused the image pull (credentials)",
		.sources = DEVKIT__SIG_EVENT | DEVKIT__SIG_WAITING,
		.reasons = "Failed|ErrImagePull",
		.event_needs = "Failed to pull image",
		.any = pull_auth,
		.when = DEVKIT__WHEN_WAITING,
		.family = "image",
		.explain =
			"The registry refused to give the node the image {image}: it wants credentials "
			"the node did not send or that may not read this repository. A private image "
			"needs an imagePullSecret for its registry, in the Pod or its ServiceAccount. "
			"Docker Hub answers \"pull access denied\" also for a repository that does not "
			"exist, so check the name as well. The runtime said: {message}",
		.fix =
			"Create a pull secret (`kubectl create secret docker-registry regcred -n "
			"{namespace} --docker-server=REGISTRY --docker-username=USER "
			"--docker-password=TOKEN`) and list it in spec.imagePullSecrets, or fix the one "
			"there; then check that {image} is spelled right.",
	},
	{
		.id = "image-not-found", .stage = DEVKIT_DIAG_STARTUP,
		.title = "the image does not exist",
		.sources = DEVKIT__SIG_EVENT | DEVKIT__SIG_WAITING,
		.reasons = "Failed|ErrImagePull",
		.event_needs = "Failed to pull image",
		.any = pull_not_found,
		.when = DEVKIT__WHEN_WAITING,
		.family = "image",
		.explain =
			"The image {image} does not exist: the registry answered that this repository or "
			"tag is unknown. A typo in the name or tag, a tag that was never pushed (a CI "
			"build that failed), or a registry host missing from the name (Docker Hub is "
			"asked then). The runtime said: {message}",
		.fix =
			"Check it with `docker manifest inspect {image}`, push the image, or fix "
			"spec.containers[{container}].image.",
	},
	{
		.id = "image-pull-failed", .stage = DEVKIT_DIAG_STARTUP,
		.title = "the image cannot be pulled",
		.sources = DEVKIT__SIG_WAITING,
		.reasons = "ErrImagePull|ImagePullBackOff|InvalidImageName|"
		"ErrImageNeverPull",
		.when = DEVKIT__WHEN_WAITING,
		.family = "image",
		.explain =
			"The node cannot pull the image {image} ({reason}): {message}",
		.fix =
			"The pull error is in the Pod's events (`devkit events {pod}`): a registry the "
			"node cannot reach (proxy, firewall), a malformed name, or imagePullPolicy: Never "
			"with an image the node does not have.",
	},
	{
		.id = "missing-configmap", .stage = DEVKIT_DIAG_STARTUP,
		.title = "a ConfigMap the Pod uses does not exist",
		.sources = DEVKIT__SIG_EVENT | DEVKIT__SIG_WAITING,
		.reasons = "FailedMount|CreateContainerConfigError|Failed",
		.needs = "not found",
		.any = configmap,
		.when = DEVKIT__WHEN_WAITING,
		.family = "mount",
		.explain =
			"The Pod uses the ConfigMap \"{missing}\" (as a volume or in its environment) and "
			"there is none of that name in namespace {namespace}. The kubelet does not start "
			"the container until it exists. The kubelet said: {message}",
		.fix =
			"Create it (`kubectl create configmap {missing} -n {namespace} --from-file=...`), "
			"fix the name in the Pod template, or mark the reference optional: true.",
	},
	{
		.id = "missing-secret", .stage = DEVKIT_DIAG_STARTUP,
		.title = "a Secret the Pod uses does not exist",
		.sources = DEVKIT__SIG_EVENT | DEVKIT__SIG_WAITING,
		.reasons = "FailedMount|CreateContainerConfigError|Failed",
		.needs = "not found",
		.any = secret,
		.when = DEVKIT__WHEN_WAITING,
		.family = "mount",
		.explain =
			"The Pod uses the Secret \"{missing}\" (as a volume or in its environment) and "
			"there is none of that name in namespace {namespace}. The kubelet does not start "
			"the container until it exists. The kubelet said: {message}",
		.fix =
			"Create it (`kubectl create secret generic {missing} -n {namespace} "
			"--from-literal=...`), fix the name in the Pod template, or mark the reference "
			"optional: true.",
	},
	{
		.id = "mount-failed", .stage = DEVKIT_DIAG_STARTUP,
		.title = "a volume cannot be mounted",
		.sources = DEVKIT__SIG_EVENT,
		.reasons = "FailedMount|FailedAttachVolume|FailedMapVolume",
		.when = DEVKIT__WHEN_WAITING,
		.family = "mount",
		.explain =
			"A volume of the Pod cannot be attached or mounted, so its containers cannot "
			"start: {message}",
		.fix =
			"`kubectl describe pod {pod}` lists the volumes; look at the one the message "
			"names (a disk still attached to another node, an NFS server out of reach, a CSI "
			"driver not running on node {node}).",
	},
	{
		.id = "sandbox-failed", .stage = DEVKIT_DIAG_STARTUP,
		.title = "the node cannot create the Pod's sandbox",
		.sources = DEVKIT__SIG_EVENT,
		.reasons = "FailedCreatePodSandBox",
		.when = DEVKIT__WHEN_WAITING,
		.explain =
			"The node {node} could not create the Pod's sandbox (its network namespace and "
			"pause container), most often because the network (CNI) plugin failed: {message}",
		.fix =
			"This is the node's network plugin, not the app: check the CNI Pods in "
			"kube-system on node {node} and tell the cluster's admins.",
	},
	{
		.id = "oom-killed", .stage = DEVKIT_DIAG_RUNNING,
		.title = "killed for using more memory than its limit",
		.sources = DEVKIT__SIG_TERMINATED | DEVKIT__SIG_EVENT,
		.reasons = "OOMKilled|OOMKilling",
		.when = DEVKIT__WHEN_ALWAYS,
		.explain =
			"Container {container} used more memory than its limit ({limits_memory}) and the "
			"kernel killed it (exit code {exit_code}); it has restarted {restarts} times. The "
			"limit counts all of the container's memory: for a JVM the heap plus metaspace, "
			"thread stacks and direct buffers.",
		.fix =
			"Raise resources.limits.memory of {container}, or make the app use less; for "
			"Java, size the heap to the container (-XX:MaxRAMPercentage=75, or an -Xmx well "
			"below the limit).",
	},
	{
		.id = "crash-loop", .stage = DEVKIT_DIAG_STARTUP,
		.title = "the container keeps crashing",
		.sources = DEVKIT__SIG_WAITING,
		.reasons = "CrashLoopBackOff",
		.when = DEVKIT__WHEN_ALWAYS,
		.want_previous_log = 1,
		.explain =
			"Container {container} keeps exiting, and the kubelet waits longer before each "
			"restart ({restarts} restarts so far). Its last run ended with exit code "
			"{exit_code} ({last_reason}): {exit_meaning}",
		.fix =
			"Read why it exited: the end of the previous run's log is below (`devkit logs {pod} "
			"-c {container} --previous`). To try it by hand, copy the Pod with a keep-alive "
			"command (`devkit replicate --pod {pod} --keep-alive`) and start the app inside.",
	},
	{
		.id = "startup-probe-failed", .stage = DEVKIT_DIAG_STARTUP,
		.title = "the startup probe fails",
		.sources = DEVKIT__SIG_EVENT,
		.reasons = "Unhealthy|Killing",
		.any = startup,
		.when = DEVKIT__WHEN_NOT_READY,
		.explain =
			"The startup probe of {container} ({probe_startup}) fails: {message}. Until it "
			"succeeds the other probes wait; when it has failed failureThreshold times the "
			"kubelet restarts the container.",
		.fix =
			"Give the app the time it needs to start (failureThreshold x periodSeconds), and "
			"check that the probe's port and path are the app's.",
	},
	{
		.id = "liveness-probe-failed", .stage = DEVKIT_DIAG_RUNNING,
		.title = "the liveness probe fails and the container is restarted",
		.sources = DEVKIT__SIG_EVENT,
		.reasons = "Unhealthy|Killing",
		.any = liveness,
		.when = DEVKIT__WHEN_ALWAYS,
		.explain =
			"The liveness probe of {container} ({probe_liveness}) failed: {message}. After "
			"failureThreshold failures in a row the kubelet kills the container and starts it "
			"again, so a slow start or a busy app looks like a crash (exit code 137).",
		.fix =
			"Make the endpoint answer within timeoutSeconds, give a slow-starting app a "
			"startupProbe (or a larger initialDelaySeconds), or loosen "
			"periodSeconds/failureThreshold. For a debugging session, copy the Pod without "
			"it: `devkit replicate --pod {pod} --no-liveness`.",
	},
	{
		.id = "readiness-probe-failed", .stage = DEVKIT_DIAG_RUNNING,
		.title = "the readiness probe fails: no traffic",
		.sources = DEVKIT__SIG_EVENT,
		.reasons = "Unhealthy",
		.any = readiness,
		.when = DEVKIT__WHEN_NOT_READY,
		.explain =
			"The readiness probe of {container} ({probe_readiness}) fails: {message}. The "
			"container keeps running, but the Pod is not Ready, so its Services send it no "
			"requests.",
		.fix =
			"Find out what the endpoint checks (a database or a downstream service that is "
			"down?) in the app's log (`devkit logs {pod} -c {container}`), and that the "
			"probe's port and path are the app's.",
	},
	{
		.id = "evicted", .stage = DEVKIT_DIAG_OFFLINE,
		.title = "evicted: the node ran short of a resource",
		.sources = DEVKIT__SIG_POD | DEVKIT__SIG_EVENT,
		.reasons = "Evicted",
		.when = DEVKIT__WHEN_ALWAYS,
		.explain =
			"The kubelet evicted the Pod because node {node} ran low on {resource}: {message} "
			"Under pressure the kubelet first evicts the Pods that use the most above what "
			"they request. An evicted Pod does not come back: its controller makes a new one.",
		.fix =
			"Set resources.requests close to real use (and a memory limit); for "
			"ephemeral-storage, keep logs and emptyDir volumes small. `kubectl delete pod "
			"{pod} -n {namespace}` removes the evicted Pod.",
	},
	{
		.id = "deleted", .stage = DEVKIT_DIAG_OFFLINE,
		.title = "the Pod is being deleted",
		.sources = DEVKIT__SIG_DELETING,
		.reasons = NULL,
		.when = DEVKIT__WHEN_ALWAYS,
		.explain =
			"The Pod is being deleted: deletionTimestamp is {deletion_time} (grace period "
			"{grace} s){finalizers_text}. Someone deleted it, or its controller {owner} "
			"replaced it (a rollout, a scale-down, a node drain).",
		.fix =
			"If it should stay, look at who deleted it: its owner's events (`devkit events "
			"{pod}`) show rollouts and scale-downs. If it stays Terminating long after the "
			"grace period, its node may be gone or a finalizer is not being removed.",
	},
	{
		.id = "node-lost", .stage = DEVKIT_DIAG_OFFLINE,
		.title = "the Pod's node stopped answering",
		.sources = DEVKIT__SIG_EVENT | DEVKIT__SIG_POD,
		.reasons = "NodeNotReady|NodeLost|TaintManagerEviction",
		.when = DEVKIT__WHEN_ALWAYS,
		.explain =
			"Node {node} stopped reporting to the control plane ({message}); after a few "
			"minutes its Pods are deleted and made again elsewhere.",
		.fix =
			"Nothing in the app to fix: the node is down or cut off. Its controller replaces "
			"the Pod; tell the cluster's admins if it lasts.",
	},
	{ .id = NULL },
};
