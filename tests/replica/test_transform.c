/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Pod transformation on real-world manifests (tests/replica/manifests:
 * a Spring Boot Deployment, Bitnami's NGINX with an init container and
 * sidecars, the ZooKeeper StatefulSet of the Kubernetes tutorial, Fluent
 * Bit's DaemonSet, Istio's Bookinfo, Pods as `kubectl get -o json` shows
 * them). Every Pod produced is validated against the published Kubernetes
 * schema (kubernetes-validate, v1.29, strict).
 */
#include "replica_test.h"

static devkit_replica_options opts_for(devkit_replica_source kind, const char *name)
{
	devkit_replica_options o = DEVKIT_REPLICA_OPTIONS_INIT;
	o.source_kind = kind;
	o.source_name = name;
	o.owner = "alice";
	return o;
}

static int has_key(const json_t *obj, const char *dotted)
{
	return devkit__json_path(obj, dotted) != NULL;
}

Test(transform, deployment_defaults)
{
	json_t *src = rt_load("petclinic-deployment.yaml");
	json_t *svcs = rt_services("petclinic-service.yaml");
	devkit_replica_options o = opts_for(DEVKIT_REPLICA_FROM_DEPLOYMENT, "petclinic");
	devkit__replica_objects out;
	rt_transform(&o, src, svcs, NULL, &out);
	json_t *pod = out.pod;

	cr_assert_str_eq(rt_str(pod, "apiVersion"), "v1");
	cr_assert_str_eq(rt_str(pod, "kind"), "Pod");
	cr_assert_str_eq(rt_str(pod, "metadata.name"), "petclinic-alice-" RT_SUFFIX);
	cr_assert_str_eq(rt_str(pod, "metadata.namespace"), "shop");
	/* fresh metadata: nothing but name, namespace, labels, annotations */
	cr_assert_eq(json_object_size(json_object_get(pod, "metadata")), 4);
	cr_assert(!has_key(pod, "status"));

	/* the selector's labels (= the Service's) are gone, the others stay */
	const json_t *labels = devkit__json_path(pod, "metadata.labels");
	cr_assert(!json_object_get(labels, "app.kubernetes.io/name"));
	cr_assert(!json_object_get(labels, "app.kubernetes.io/instance"));
	cr_assert_str_eq(json_string_value(json_object_get(labels, "app.kubernetes.io/version")),
		"3.2.0");
	cr_assert_str_eq(json_string_value(json_object_get(labels, "helm.sh/chart")),
		"petclinic-1.4.2");
	cr_assert_str_eq(json_string_value(json_object_get(labels, "devkit.io/replica")), "true");
	cr_assert_str_eq(json_string_value(json_object_get(labels, "devkit.io/owner")), "alice");
	cr_assert(!json_object_get(labels, "devkit.io/traffic-tag"));

	const json_t *ann = devkit__json_path(pod, "metadata.annotations");
	cr_assert_str_eq(json_string_value(json_object_get(ann, "devkit.io/source")),
		"deployment/petclinic");
	cr_assert_str_eq(json_string_value(json_object_get(ann, "devkit.io/created")),
		"2024-05-01T12:00:00Z");
	cr_assert_str_eq(json_string_value(json_object_get(ann, "devkit.io/expires")),
		"2024-05-01T20:00:00Z"); /* default TTL: 8 hours */
	cr_assert_str_eq(json_string_value(json_object_get(ann, "prometheus.io/scrape")), "true");

	/* without options the spec is the template's */
	json_t *c = rt_container(pod, "petclinic");
	cr_assert(c);
	cr_assert(json_object_get(c, "livenessProbe"));
	cr_assert(json_object_get(c, "readinessProbe"));
	cr_assert(json_object_get(c, "startupProbe"));
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "command"), 0)), "java");
	cr_assert_str_eq(rt_env(c, "JAVA_TOOL_OPTIONS"), "-XX:+UseG1GC -Dfile.encoding=UTF-8");
	cr_assert_str_eq(rt_str(pod, "spec.serviceAccountName"), "petclinic");
	cr_assert(has_key(pod, "spec.affinity.nodeAffinity"));
	cr_assert(has_key(pod, "spec.tolerations"));
	cr_assert_str_eq(rt_str(pod, "spec.nodeSelector.node-pool"), "apps");
	cr_assert(json_equal(devkit__json_path(pod, "spec.volumes"),
		devkit__json_path(src, "spec.template.spec.volumes")));
	cr_assert(json_equal(json_object_get(c, "resources"), json_object_get(
		json_array_get(devkit__json_path(src, "spec.template.spec.containers"), 0),
		"resources")));
	cr_assert_null(out.virtual_service);
	rt_validate(pod);
	devkit__replica_objects_clear(&out);
	json_decref(svcs);
	json_decref(src);
}

Test(transform, deployment_every_option)
{
	json_t *src = rt_load("petclinic-deployment.yaml");
	json_t *svcs = rt_services("petclinic-service.yaml");
	devkit_replica_options o = opts_for(DEVKIT_REPLICA_FROM_DEPLOYMENT, "petclinic");
	o.name = "petclinic-debug";
	o.keep_alive = 1;
	o.log_file = "/devkit/log/app.log";
	o.node_name = "worker-3";
	o.tcpdump = 1;
	o.tcpdump_filter = "tcp port 8080";
	o.jvm_exception_log = 1;
	o.debug_port = 5005;
	o.no_liveness = 1;
	o.no_readiness = 1;
	o.no_startup = 1;
	o.ttl_s = 3600;
	o.traffic_tag = "alice-42";
	devkit__replica_objects out;
	rt_transform(&o, src, svcs, NULL, &out);
	json_t *pod = out.pod;
	json_t *c = rt_container(pod, "petclinic");

	cr_assert_str_eq(rt_str(pod, "metadata.name"), "petclinic-debug");
	cr_assert_str_eq(json_string_value(json_object_get(devkit__json_path(pod, "metadata.labels"),
		"devkit.io/traffic-tag")), "alice-42");
	cr_assert_str_eq(json_string_value(json_object_get(devkit__json_path(pod,
		"metadata.annotations"), "devkit.io/expires")), "2024-05-01T13:00:00Z");

	/* probes */
	cr_assert(!json_object_get(c, "livenessProbe"));
	cr_assert(!json_object_get(c, "readinessProbe"));
	cr_assert(!json_object_get(c, "startupProbe"));

	/* keep-alive: sh -c SCRIPT devkit-keepalive LOG java args... */
	json_t *cmd = json_object_get(c, "command");
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 0)), "/bin/sh");
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 1)), "-c");
	cr_assert(strstr(json_string_value(json_array_get(cmd, 2)), "devkit-app"));
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 3)), "devkit-keepalive");
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 4)), "/devkit/log/app.log");
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 5)), "java");
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 6)), "-XX:MaxRAMPercentage=75.0");
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 9)), "--spring.profiles.active=postgres");
	cr_assert_eq(json_array_size(cmd), 10);
	cr_assert(!json_object_get(c, "args"));
	/* the script's $ are escaped from Kubernetes' $(VAR) expansion */
	cr_assert(strstr(json_string_value(json_array_get(cmd, 2)), "echo $$$$ >"));
	cr_assert_str_eq(rt_str(pod, "spec.restartPolicy") ?: "Always", "Always");

	/* JVM: appended to the existing value */
	cr_assert_str_eq(rt_env(c, "JAVA_TOOL_OPTIONS"),
		"-XX:+UseG1GC -Dfile.encoding=UTF-8 -XX:+IgnoreUnrecognizedVMOptions "
		"-XX:+ShowCodeDetailsInExceptionMessages -Xlog:exceptions=info "
		"-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:5005");
	json_t *jdwp = devkit__json_find_named(json_object_get(c, "ports"), "jdwp");
	cr_assert(jdwp);
	cr_assert_eq(json_integer_value(json_object_get(jdwp, "containerPort")), 5005);
	cr_assert_str_eq(json_string_value(json_object_get(jdwp, "protocol")), "TCP");
	cr_assert(devkit__json_find_named(json_object_get(c, "ports"), "http"));

	/* tcpdump sidecar with its volume, shared with the main container */
	json_t *td = rt_container(pod, "devkit-tcpdump");
	cr_assert(td);
	cr_assert_str_eq(json_string_value(json_object_get(td, "image")), "nicolaka/netshoot:v0.13");
	json_t *tcmd = json_object_get(td, "command");
	char joined[512] = "";
	size_t i;
	json_t *v;
	json_array_foreach(tcmd, i, v) {
		strcat(joined, i ? " " : "");
		strcat(joined, json_string_value(v));
	}
	cr_assert_str_eq(joined, "tcpdump -i any -U -w /devkit/pcap/capture.pcap -C 10 -W 5 -Z root "
		"tcp port 8080");
	json_t *caps = (json_t *)devkit__json_path(td, "securityContext.capabilities.add");
	cr_assert_str_eq(json_string_value(json_array_get(caps, 0)), "NET_ADMIN");
	cr_assert_str_eq(json_string_value(json_array_get(caps, 1)), "NET_RAW");
	cr_assert_eq(json_integer_value(devkit__json_path(td, "securityContext.runAsUser")), 0);
	json_t *pcap = devkit__json_find_named(devkit__json_path(pod, "spec.volumes"), "devkit-pcap");
	cr_assert(pcap && json_object_get(pcap, "emptyDir"));
	cr_assert(devkit__json_find_named(devkit__json_path(pod, "spec.volumes"), "devkit"));
	int main_pcap = 0, main_devkit = 0;
	json_array_foreach(json_object_get(c, "volumeMounts"), i, v) {
		const char *mp = json_string_value(json_object_get(v, "mountPath"));
		main_pcap |= strcmp(mp, "/devkit/pcap") == 0;
		main_devkit |= strcmp(mp, "/devkit") == 0;
	}
	cr_assert(main_pcap && main_devkit);
	cr_assert_str_eq(rt_str(json_array_get(json_object_get(td, "volumeMounts"), 0), "mountPath"),
		"/devkit/pcap");

	/* the node: nodeName, and node affinity/selector no longer in the way */
	cr_assert_str_eq(rt_str(pod, "spec.nodeName"), "worker-3");
	cr_assert(!has_key(pod, "spec.nodeSelector"));
	cr_assert(!has_key(pod, "spec.affinity.nodeAffinity"));
	cr_assert(has_key(pod, "spec.affinity.podAntiAffinity"));
	cr_assert(has_key(pod, "spec.tolerations"));

	/* the rest is kept */
	cr_assert(json_object_get(c, "envFrom"));
	cr_assert(devkit__json_find_named(json_object_get(c, "env"), "SPRING_DATASOURCE_PASSWORD"));
	cr_assert(json_object_get(c, "securityContext"));
	cr_assert_null(out.virtual_service); /* a tag without istio: the label only */
	rt_validate(pod);
	devkit__replica_objects_clear(&out);
	json_decref(svcs);
	json_decref(src);
}

Test(transform, java_tool_options_from_configmap_stays_untouched)
{
	json_t *src = rt_load("petclinic-deployment.yaml");
	json_t *svcs = rt_services("petclinic-service.yaml");
	json_t *env = (json_t *)devkit__json_path(json_array_get(
		devkit__json_path(src, "spec.template.spec.containers"), 0), "env");
	json_t *from = json_pack("{s:s,s:{s:{s:s,s:s}}}", "name", "JAVA_TOOL_OPTIONS", "valueFrom",
		"configMapKeyRef", "name", "jvm", "key", "options");
	json_array_set_new(env, 0, from);
	devkit_replica_options o = opts_for(DEVKIT_REPLICA_FROM_DEPLOYMENT, "petclinic");
	o.jvm_exception_log = 1;
	devkit__replica_objects out;
	rt_transform(&o, src, svcs, NULL, &out);
	json_t *c = rt_container(out.pod, "petclinic");
	json_t *penv = json_object_get(c, "env");
	/* the original, renamed, valueFrom as it was; ours right after it */
	json_t *orig = json_array_get(penv, 0);
	cr_assert_str_eq(rt_str(orig, "name"), "DEVKIT_ORIG_JAVA_TOOL_OPTIONS");
	cr_assert_str_eq(rt_str(orig, "valueFrom.configMapKeyRef.name"), "jvm");
	cr_assert_str_eq(rt_str(orig, "valueFrom.configMapKeyRef.key"), "options");
	json_t *ours = json_array_get(penv, 1);
	cr_assert_str_eq(rt_str(ours, "name"), "JAVA_TOOL_OPTIONS");
	cr_assert_str_eq(rt_str(ours, "value"), "$(DEVKIT_ORIG_JAVA_TOOL_OPTIONS) "
		DEVKIT__JVM_EXCEPTION_FLAGS);
	cr_assert_eq(json_array_size(penv), 5);
	rt_validate(out.pod);
	devkit__replica_objects_clear(&out);
	json_decref(svcs);
	json_decref(src);
}

Test(transform, jdwp_agent_replaced_not_doubled)
{
	json_t *src = rt_load("petclinic-deployment.yaml");
	json_t *svcs = rt_services("petclinic-service.yaml");
	json_t *env0 = json_array_get(devkit__json_path(json_array_get(
		devkit__json_path(src, "spec.template.spec.containers"), 0), "env"), 0);
	json_object_set_new(env0, "value", json_string("-Xmx512m "
		"-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=8000 -XX:+UseG1GC"));
	devkit_replica_options o = opts_for(DEVKIT_REPLICA_FROM_DEPLOYMENT, "petclinic");
	o.debug_port = 5005;
	o.jvm_exception_log = 1;
	devkit__replica_objects out;
	rt_transform(&o, src, svcs, NULL, &out);
	json_t *c = rt_container(out.pod, "petclinic");
	cr_assert_str_eq(rt_env(c, "JAVA_TOOL_OPTIONS"), "-Xmx512m -XX:+UseG1GC "
		DEVKIT__JVM_EXCEPTION_FLAGS
		" -agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:5005");
	devkit__replica_objects_clear(&out);

	/* flags already there (a copy of a copy) are not added twice */
	json_object_set_new(env0, "value",
		json_string("-XX:+IgnoreUnrecognizedVMOptions -Xlog:exceptions=info"));
	rt_transform(&o, src, svcs, NULL, &out);
	c = rt_container(out.pod, "petclinic");
	cr_assert_str_eq(rt_env(c, "JAVA_TOOL_OPTIONS"),
		"-XX:+IgnoreUnrecognizedVMOptions -Xlog:exceptions=info "
		"-XX:+ShowCodeDetailsInExceptionMessages "
		"-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:5005");
	devkit__replica_objects_clear(&out);
	json_decref(svcs);
	json_decref(src);
}

Test(transform, nginx_init_container_and_sidecars)
{
	json_t *src = rt_load("nginx-deployment.yaml");
	json_t *svcs = rt_services("nginx-service.yaml");
	devkit_replica_options o = opts_for(DEVKIT_REPLICA_FROM_DEPLOYMENT, "web");
	o.container = "nginx";
	o.no_liveness = 1;
	o.jvm_exception_log = 0;
	o.debug_port = 0;
	devkit__replica_objects out;

	/* keep-alive of a container the image's ENTRYPOINT starts: say so */
	o.keep_alive = 1;
	rt_transform_fails(&o, src, svcs, NULL, DEVKIT_EINVAL, "ENTRYPOINT");
	o.log_file = "/tmp/nginx.log";
	o.keep_alive = 0;
	rt_transform_fails(&o, src, svcs, NULL, DEVKIT_EINVAL, "container \"nginx\" has no command");

	/* with the command given, it works; its $ reach the shell as typed */
	o.keep_alive = 1;
	o.log_file = NULL;
	o.command = "exec /opt/bitnami/scripts/nginx/run.sh --prefix $HOME";
	rt_transform(&o, src, svcs, NULL, &out);
	json_t *pod = out.pod;
	json_t *c = rt_container(pod, "nginx");
	json_t *cmd = json_object_get(c, "command");
	cr_assert_eq(json_array_size(cmd), 8);
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 4)), "");  /* logs to stdout */
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 5)), "/bin/sh");
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 6)), "-c");
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 7)),
		"exec /opt/bitnami/scripts/nginx/run.sh --prefix $$HOME");
	cr_assert(!json_object_get(c, "livenessProbe"));
	cr_assert(json_object_get(c, "readinessProbe"));

	/* init container and the other containers untouched, order kept */
	const json_t *tspec = devkit__json_path(src, "spec.template.spec");
	cr_assert(json_equal(devkit__json_path(pod, "spec.initContainers"),
		json_object_get(tspec, "initContainers")));
	json_t *containers = (json_t *)devkit__json_path(pod, "spec.containers");
	cr_assert_eq(json_array_size(containers), 3);
	cr_assert_str_eq(rt_str(json_array_get(containers, 0), "name"), "git-repo-syncer");
	cr_assert(json_equal(json_array_get(containers, 0),
		json_array_get(json_object_get(tspec, "containers"), 0)));
	cr_assert(json_equal(json_array_get(containers, 2),
		json_array_get(json_object_get(tspec, "containers"), 2)));
	const json_t *labels = devkit__json_path(pod, "metadata.labels");
	cr_assert(!json_object_get(labels, "app.kubernetes.io/name"));
	cr_assert(!json_object_get(labels, "app.kubernetes.io/instance"));
	cr_assert(json_object_get(labels, "app.kubernetes.io/managed-by"));
	rt_validate(pod);
	devkit__replica_objects_clear(&out);

	/* only a command: sh -c COMMAND, args gone */
	o.keep_alive = 0;
	o.command = "nginx -g 'daemon off;'";
	rt_transform(&o, src, svcs, NULL, &out);
	c = rt_container(out.pod, "nginx");
	json_t *want = json_pack("[s,s,s]", "/bin/sh", "-c", "nginx -g 'daemon off;'");
	cr_assert(json_equal(json_object_get(c, "command"), want));
	json_decref(want);
	rt_validate(out.pod);
	devkit__replica_objects_clear(&out);

	/* log file only, with the spec's command (the metrics exporter) */
	o.command = NULL;
	o.container = "metrics";
	o.log_file = "/tmp/exporter.log";
	rt_transform(&o, src, svcs, NULL, &out);
	c = rt_container(out.pod, "metrics");
	cmd = json_object_get(c, "command");
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 3)), "devkit-log");
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 4)), "/tmp/exporter.log");
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 5)), "/usr/bin/exporter");
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 7)), "http://127.0.0.1:8080/status");
	rt_validate(out.pod);
	devkit__replica_objects_clear(&out);

	/* no such container: the message lists those there are */
	o.container = "php";
	rt_transform_fails(&o, src, svcs, NULL, DEVKIT_EINVAL,
		"no container \"php\" (containers: git-repo-syncer, nginx, metrics)");
	json_decref(svcs);
	json_decref(src);
}

Test(transform, jvm_options_added_where_there_were_none)
{
	json_t *src = rt_load("reviews-v2-deployment.yaml");
	json_t *svcs = rt_services("reviews-service.yaml");
	devkit_replica_options o = opts_for(DEVKIT_REPLICA_FROM_DEPLOYMENT, "reviews-v2");
	o.namespace_name = "bookinfo";
	o.jvm_exception_log = 1;
	o.debug_port = 5005;
	devkit__replica_objects out;
	rt_transform(&o, src, svcs, NULL, &out);
	json_t *c = rt_container(out.pod, "reviews");
	json_t *env = json_object_get(c, "env");
	cr_assert_str_eq(rt_str(json_array_get(env, 0), "name"), "LOG_DIR");
	cr_assert_str_eq(rt_env(c, "JAVA_TOOL_OPTIONS"), DEVKIT__JVM_EXCEPTION_FLAGS
		" -agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:5005");
	/* the unnamed 9080 port stays, jdwp is added */
	json_t *ports = json_object_get(c, "ports");
	cr_assert_eq(json_array_size(ports), 2);
	cr_assert_str_eq(rt_str(out.pod, "metadata.namespace"), "bookinfo");
	rt_validate(out.pod);
	devkit__replica_objects_clear(&out);
	json_decref(svcs);
	json_decref(src);
}

Test(transform, statefulset_claims_become_empty_dirs)
{
	json_t *src = rt_load("zk-statefulset.yaml");
	json_t *svcs = rt_services("zk-services.json");
	devkit_replica_options o = opts_for(DEVKIT_REPLICA_FROM_STATEFULSET, "zk");
	o.namespace_name = "infra";
	o.keep_alive = 1;
	o.no_liveness = 1;
	devkit__replica_objects out;
	rt_transform(&o, src, svcs, NULL, &out);
	json_t *pod = out.pod;
	cr_assert_str_eq(rt_str(pod, "metadata.name"), "zk-alice-" RT_SUFFIX);
	cr_assert_str_eq(rt_str(pod, "metadata.namespace"), "infra");
	cr_assert_str_eq(json_string_value(json_object_get(devkit__json_path(pod,
		"metadata.annotations"), "devkit.io/source")), "statefulset/zk");
	/* app=zk is the selector and both Services': gone */
	const json_t *labels = devkit__json_path(pod, "metadata.labels");
	cr_assert(!json_object_get(labels, "app"));
	cr_assert_eq(json_object_size(labels), 2);
	/* the claim template is an emptyDir of the claim's size */
	json_t *datadir = devkit__json_find_named(devkit__json_path(pod, "spec.volumes"), "datadir");
	cr_assert(datadir);
	cr_assert_str_eq(rt_str(datadir, "emptyDir.sizeLimit"), "10Gi");
	cr_assert(!json_object_get(datadir, "persistentVolumeClaim"));
	cr_assert(has_key(pod, "spec.affinity.podAntiAffinity"));
	cr_assert_eq(json_integer_value(devkit__json_path(pod, "spec.securityContext.runAsUser")),
		1000);
	json_t *cmd = json_object_get(rt_container(pod, "kubernetes-zookeeper"), "command");
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 5)), "sh");
	cr_assert(strstr(json_string_value(json_array_get(cmd, 7)), "start-zookeeper --servers=3"));
	rt_validate(pod);
	devkit__replica_objects_clear(&out);
	json_decref(svcs);
	json_decref(src);
}

Test(transform, daemonset_keeps_host_paths_and_tolerations)
{
	json_t *src = rt_load("fluent-bit-daemonset.yaml");
	json_t *svcs = rt_services("fluent-bit-service.yaml");
	devkit_replica_options o = opts_for(DEVKIT_REPLICA_FROM_DAEMONSET, "fluent-bit");
	o.namespace_name = "logging";
	o.node_name = "worker-1";
	o.keep_alive = 1;
	o.log_file = "/tmp/fluent-bit.log";
	devkit__replica_objects out;
	rt_transform(&o, src, svcs, NULL, &out);
	json_t *pod = out.pod;
	const json_t *vols = devkit__json_path(pod, "spec.volumes");
	cr_assert_str_eq(rt_str(devkit__json_find_named(vols, "varlog"), "hostPath.path"), "/var/log");
	cr_assert_str_eq(rt_str(devkit__json_find_named(vols, "etcmachineid"), "hostPath.type"),
		"File");
	cr_assert_eq(json_array_size(devkit__json_path(pod, "spec.tolerations")), 2);
	cr_assert_str_eq(rt_str(pod, "spec.nodeName"), "worker-1");
	cr_assert_str_eq(rt_str(pod, "spec.priorityClassName"), "system-node-critical");
	const json_t *labels = devkit__json_path(pod, "metadata.labels");
	cr_assert(!json_object_get(labels, "app.kubernetes.io/name"));
	cr_assert(!json_object_get(labels, "app.kubernetes.io/instance"));
	json_t *cmd = json_object_get(rt_container(pod, "fluent-bit"), "command");
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 5)), "/fluent-bit/bin/fluent-bit");
	cr_assert_str_eq(json_string_value(json_array_get(cmd, 7)),
		"--config=/fluent-bit/etc/conf/fluent-bit.conf");
	rt_validate(pod);
	devkit__replica_objects_clear(&out);

	/* keeping the labels would let the DaemonSet adopt the copy (and delete
	 * one of its Pods on that node): refused */
	o.keep_labels = 1;
	rt_transform_fails(&o, src, svcs, NULL, DEVKIT_EINVAL, "adopt");
	json_decref(svcs);
	json_decref(src);
}

Test(transform, pod_source_as_kubectl_shows_it)
{
	json_t *src = rt_load("petclinic-pod.json");
	json_t *rs = rt_load("petclinic-replicaset.json");
	json_t *svcs = rt_services("petclinic-service.yaml");
	devkit_replica_options o = opts_for(DEVKIT_REPLICA_FROM_POD, "petclinic-7c9d8f6b5d-x8kq2");
	devkit__replica_objects out;
	rt_transform(&o, src, svcs, rs, &out);
	json_t *pod = out.pod;

	/* the generated name stays a DNS label of at most 63 */
	const char *name = rt_str(pod, "metadata.name");
	cr_assert_str_eq(name, "petclinic-7c9d8f6b5d-x8kq2-alice-" RT_SUFFIX);
	cr_assert(devkit__dns_label_valid(name));
	const json_t *meta = json_object_get(pod, "metadata");
	static const char *const gone[] = { "uid", "resourceVersion", "ownerReferences",
		"managedFields", "creationTimestamp", "generateName", "selfLink", NULL };
	for (int i = 0; gone[i]; i++)
		cr_assert(!json_object_get(meta, gone[i]), "metadata.%s copied", gone[i]);
	cr_assert(!json_object_get(pod, "status"));
	/* the scheduler's node, admission's priority and token volume go */
	cr_assert(!has_key(pod, "spec.nodeName"));
	cr_assert(!has_key(pod, "spec.priority"));
	const json_t *vols = devkit__json_path(pod, "spec.volumes");
	cr_assert_eq(json_array_size(vols), 2);
	cr_assert(!devkit__json_find_named(vols, "kube-api-access-5mz7t"));
	json_t *c = rt_container(pod, "petclinic");
	cr_assert_eq(json_array_size(json_object_get(c, "volumeMounts")), 2);
	/* the ReplicaSet's selector labels and the hash go */
	const json_t *labels = json_object_get(meta, "labels");
	cr_assert(!json_object_get(labels, "pod-template-hash"));
	cr_assert(!json_object_get(labels, "app.kubernetes.io/name"));
	cr_assert_str_eq(json_string_value(json_object_get(labels, "app.kubernetes.io/version")),
		"3.2.0");
	/* the node's CNI annotations go, the application's stay */
	const json_t *ann = json_object_get(meta, "annotations");
	cr_assert(!json_object_get(ann, "cni.projectcalico.org/podIP"));
	cr_assert(json_object_get(ann, "prometheus.io/path"));
	cr_assert_str_eq(json_string_value(json_object_get(ann, "devkit.io/source")),
		"pod/petclinic-7c9d8f6b5d-x8kq2");
	rt_validate(pod);
	devkit__replica_objects_clear(&out);

	/* owner unknown (not allowed to read the ReplicaSet): no source label */
	rt_transform(&o, src, svcs, NULL, &out);
	labels = devkit__json_path(out.pod, "metadata.labels");
	cr_assert_eq(json_object_size(labels), 2, "%s", json_dumps(labels, 0));
	devkit__replica_objects_clear(&out);

	/* keep_labels: all but the hash, which would get it adopted */
	o.keep_labels = 1;
	o.node_name = "worker-2";
	rt_transform(&o, src, svcs, rs, &out);
	labels = devkit__json_path(out.pod, "metadata.labels");
	cr_assert(json_object_get(labels, "app.kubernetes.io/name"));
	cr_assert(json_object_get(labels, "app.kubernetes.io/instance"));
	cr_assert(!json_object_get(labels, "pod-template-hash"));
	cr_assert_str_eq(rt_str(out.pod, "spec.nodeName"), "worker-2");
	rt_validate(out.pod);
	devkit__replica_objects_clear(&out);
	json_decref(svcs);
	json_decref(rs);
	json_decref(src);
}

Test(transform, statefulset_pod_loses_identity_and_claim)
{
	json_t *src = rt_load("zk-0-pod.json");
	json_t *sts = rt_load("zk-statefulset.yaml");
	json_t *svcs = rt_services("zk-services.json");
	devkit_replica_options o = opts_for(DEVKIT_REPLICA_FROM_POD, "zk-0");
	o.namespace_name = "infra";
	devkit__replica_objects out;
	rt_transform(&o, src, svcs, sts, &out);
	json_t *pod = out.pod;
	cr_assert(!has_key(pod, "spec.hostname"));
	cr_assert(!has_key(pod, "spec.subdomain"));
	json_t *datadir = devkit__json_find_named(devkit__json_path(pod, "spec.volumes"), "datadir");
	cr_assert(datadir && json_object_get(datadir, "emptyDir"));
	cr_assert(!json_object_get(datadir, "persistentVolumeClaim"));
	const json_t *labels = devkit__json_path(pod, "metadata.labels");
	cr_assert_eq(json_object_size(labels), 2, "%s", json_dumps(labels, 0));
	rt_validate(pod);
	devkit__replica_objects_clear(&out);
	json_decref(svcs);
	json_decref(sts);
	json_decref(src);
}

Test(transform, istio_traffic_tag)
{
	json_t *src = rt_load("reviews-v2-deployment.yaml");
	json_t *svcs = rt_services("reviews-service.yaml");
	devkit_replica_options o = opts_for(DEVKIT_REPLICA_FROM_DEPLOYMENT, "reviews-v2");
	o.namespace_name = "bookinfo";
	o.traffic_tag = "alice";
	o.istio = 1;
	o.istio_host = "reviews";
	devkit__replica_objects out;
	rt_transform(&o, src, svcs, NULL, &out);
	json_t *pod = out.pod;

	/* behind the Service (app), out of the normal subset (version) */
	const json_t *labels = devkit__json_path(pod, "metadata.labels");
	cr_assert_str_eq(json_string_value(json_object_get(labels, "app")), "reviews");
	cr_assert(!json_object_get(labels, "version"));
	cr_assert_str_eq(json_string_value(json_object_get(labels, "devkit.io/traffic-tag")), "alice");
	rt_validate(pod);

	json_t *dr = out.destination_rule, *vs = out.virtual_service;
	cr_assert(dr && vs);
	cr_assert_str_eq(rt_str(dr, "apiVersion"), "networking.istio.io/v1beta1");
	cr_assert_str_eq(rt_str(dr, "kind"), "DestinationRule");
	cr_assert_str_eq(rt_str(dr, "metadata.name"), rt_str(pod, "metadata.name"));
	cr_assert_str_eq(rt_str(dr, "metadata.namespace"), "bookinfo");
	cr_assert_str_eq(rt_str(dr, "spec.host"), "reviews");
	json_t *subsets = (json_t *)devkit__json_path(dr, "spec.subsets");
	json_t *want = json_pack("[{s:s,s:{s:s}},{s:s,s:{s:s}}]",
		"name", "devkit-alice", "labels", "devkit.io/traffic-tag", "alice",
		"name", "normal", "labels", "version", "v2");
	cr_assert(json_equal(subsets, want), "%s", json_dumps(subsets, 0));
	json_decref(want);
	/* only our labels on the Istio objects */
	cr_assert_eq(json_object_size(devkit__json_path(dr, "metadata.labels")), 3);
	cr_assert_str_eq(json_string_value(json_object_get(devkit__json_path(vs,
		"metadata.annotations"), "devkit.io/expires")), "2024-05-01T20:00:00Z");

	cr_assert_str_eq(rt_str(vs, "kind"), "VirtualService");
	want = json_pack("{s:[s],s:[{s:s,s:[{s:{s:{s:s}}}],s:[{s:{s:s,s:s}}]},"
		"{s:s,s:[{s:{s:s,s:s}}]}]}",
		"hosts", "reviews", "http",
		"name", "devkit-alice", "match", "headers", "x-devkit-tag", "exact", "alice",
		"route", "destination", "host", "reviews", "subset", "devkit-alice",
		"name", "default", "route", "destination", "host", "reviews", "subset", "normal");
	cr_assert(json_equal(json_object_get(vs, "spec"), want), "%s",
		json_dumps(json_object_get(vs, "spec"), 0));
	json_decref(want);

	/* the dry run's document: a List of the three */
	json_t *doc = devkit__replica_objects_document(&out);
	cr_assert_str_eq(rt_str(doc, "kind"), "List");
	cr_assert_eq(json_array_size(json_object_get(doc, "items")), 3);
	json_decref(doc);
	devkit__replica_objects_clear(&out);

	/* a header given in capitals is matched in lower case, as Istio wants */
	o.tag_header = "X-Dev-Route";
	rt_transform(&o, src, svcs, NULL, &out);
	json_t *route0 = json_array_get(devkit__json_path(out.virtual_service, "spec.http"), 0);
	json_t *match0 = json_array_get(json_object_get(route0, "match"), 0);
	cr_assert(json_object_get(json_object_get(match0, "headers"), "x-dev-route"));
	devkit__replica_objects_clear(&out);
	o.tag_header = NULL;

	/* no such Service */
	o.istio_host = "ratings";
	rt_transform_fails(&o, src, svcs, NULL, DEVKIT_ENOTFOUND, "no Service \"ratings\"");
	/* Services unknown */
	o.istio_host = NULL;
	rt_transform_fails(&o, src, NULL, NULL, DEVKIT_EINVAL, "Services");
	/* the default host is the source's name: reviews-v2 has no Service */
	rt_transform_fails(&o, src, svcs, NULL, DEVKIT_ENOTFOUND, "istio_host");
	/* istio without a tag */
	o.traffic_tag = NULL;
	rt_transform_fails(&o, src, svcs, NULL, DEVKIT_EINVAL, "traffic_tag");
	json_decref(svcs);
	json_decref(src);
}

Test(transform, istio_needs_a_label_to_tell_pods_apart)
{
	/* petclinic: the Service selects exactly the selector's labels, and
	 * there is no version label: no subset could leave the copy out */
	json_t *src = rt_load("petclinic-deployment.yaml");
	json_t *svcs = rt_services("petclinic-service.yaml");
	devkit_replica_options o = opts_for(DEVKIT_REPLICA_FROM_DEPLOYMENT, "petclinic");
	o.traffic_tag = "alice";
	o.istio = 1;
	rt_transform_fails(&o, src, svcs, NULL, DEVKIT_EINVAL, "version: v1");
	/* with a version label, it works */
	json_object_set_new((json_t *)devkit__json_path(src, "spec.template.metadata.labels"),
		"version", json_string("v7"));
	devkit__replica_objects out;
	rt_transform(&o, src, svcs, NULL, &out);
	json_t *subsets = (json_t *)devkit__json_path(out.destination_rule, "spec.subsets");
	cr_assert_str_eq(rt_str(json_array_get(subsets, 1), "labels.version"), "v7");
	const json_t *labels = devkit__json_path(out.pod, "metadata.labels");
	cr_assert(json_object_get(labels, "app.kubernetes.io/name"));
	cr_assert(!json_object_get(labels, "version"));
	rt_validate(out.pod);
	devkit__replica_objects_clear(&out);
	/* keep_labels would put the copy in the normal subset */
	o.keep_labels = 1;
	rt_transform_fails(&o, src, svcs, NULL, DEVKIT_EINVAL, "normal subset");
	json_decref(svcs);
	json_decref(src);
}

Test(transform, bad_input)
{
	json_t *dep = rt_load("petclinic-deployment.yaml");
	json_t *pod = rt_load("petclinic-pod.json");
	devkit_replica_options o = opts_for(DEVKIT_REPLICA_FROM_DEPLOYMENT, "petclinic");

	/* a Pod given as a Deployment */
	rt_transform_fails(&o, pod, NULL, NULL, DEVKIT_EINVAL, "is a Pod, not a Deployment");
	/* no template */
	json_t *broken = json_deep_copy(dep);
	json_object_del(json_object_get(broken, "spec"), "template");
	rt_transform_fails(&o, broken, NULL, NULL, DEVKIT_EINVAL, "has no spec.template");
	json_decref(broken);
	/* no containers */
	broken = json_deep_copy(dep);
	json_object_del((json_t *)devkit__json_path(broken, "spec.template.spec"), "containers");
	rt_transform_fails(&o, broken, NULL, NULL, DEVKIT_EINVAL, "no containers");
	json_decref(broken);
	/* names */
	o.name = "Petclinic_Debug";
	rt_transform_fails(&o, dep, NULL, NULL, DEVKIT_EINVAL, "invalid name \"Petclinic_Debug\"");
	o.name = "a-name-that-is-much-too-long-for-a-dns-label-because-it-has-64-c";
	rt_transform_fails(&o, dep, NULL, NULL, DEVKIT_EINVAL, "DNS label");
	o.name = NULL;
	o.source_name = "../secrets";
	rt_transform_fails(&o, dep, NULL, NULL, DEVKIT_EINVAL, "invalid source_name");
	o.source_name = NULL;
	rt_transform_fails(&o, dep, NULL, NULL, DEVKIT_EINVAL, "source_name is required");
	o.source_name = "petclinic";
	o.owner = "alice smith";
	rt_transform_fails(&o, dep, NULL, NULL, DEVKIT_EINVAL, "invalid owner");
	o.owner = "alice";
	o.traffic_tag = "not a label";
	rt_transform_fails(&o, dep, NULL, NULL, DEVKIT_EINVAL, "invalid traffic_tag");
	o.traffic_tag = NULL;
	o.log_file = "app.log";
	rt_transform_fails(&o, dep, NULL, NULL, DEVKIT_EINVAL, "absolute path");
	o.log_file = NULL;
	o.debug_port = 70000;
	rt_transform_fails(&o, dep, NULL, NULL, DEVKIT_EINVAL, "not a TCP port");
	o.debug_port = 0;
	o.source_kind = 9;
	rt_transform_fails(&o, dep, NULL, NULL, DEVKIT_EINVAL, "unknown source_kind");
	o.source_kind = DEVKIT_REPLICA_FROM_DEPLOYMENT;
	o.version = 7;
	rt_transform_fails(&o, dep, NULL, NULL, DEVKIT_EINVAL, "unknown options version");
	json_decref(pod);
	json_decref(dep);
}

Test(transform, services_unknown_drop_every_source_label)
{
	json_t *src = rt_load("nginx-deployment.yaml");
	devkit_replica_options o = opts_for(DEVKIT_REPLICA_FROM_DEPLOYMENT, "web");
	devkit__replica_objects out;
	rt_transform(&o, src, NULL, NULL, &out);
	cr_assert_eq(json_object_size(devkit__json_path(out.pod, "metadata.labels")), 2);
	devkit__replica_objects_clear(&out);
	json_decref(src);
}

Test(names, generated_names_are_dns_labels)
{
	char out[64];
	devkit__replica_generate_name("web", "alice", "x2b4c", out, sizeof(out));
	cr_assert_str_eq(out, "web-alice-x2b4c");
	devkit__replica_generate_name("checkout-service-with-a-really-long-deployment-name-v2",
		"firstname.lastname@example", "x2b4c", out, sizeof(out));
	cr_assert(devkit__dns_label_valid(out), "%s", out);
	cr_assert_leq(strlen(out), 63);
	cr_assert(strstr(out, "-firstname-lastname-e-x2b4c"), "%s", out);
	cr_assert_eq(strncmp(out, "checkout-service-", 17), 0, "%s", out);
	devkit__replica_generate_name("Web.Frontend", "DOMAIN\\Bob", "x2b4c", out, sizeof(out));
	cr_assert_str_eq(out, "web-frontend-domain-bob-x2b4c");
	devkit__replica_generate_name("web", "---", "x2b4c", out, sizeof(out));
	cr_assert_str_eq(out, "web-devkit-x2b4c");

	char suffix[6];
	cr_assert_eq(devkit__replica_random_suffix(suffix), 0);
	cr_assert_eq(strlen(suffix), 5);
	for (int i = 0; i < 5; i++)
		cr_assert(strchr("bcdfghjklmnpqrstvwxz2456789", suffix[i]));

	char v[64];
	devkit__label_value_sanitize("DOMAIN\\bob smith.", v, sizeof(v));
	cr_assert_str_eq(v, "DOMAIN-bob-smith");
	devkit__label_value_sanitize(NULL, v, sizeof(v));
	cr_assert_str_eq(v, "devkit");
	cr_assert(devkit__label_value_valid("alice.smith_2"));
	cr_assert(!devkit__label_value_valid("-alice"));
}

Test(names, rfc3339)
{
	char s[32];
	time_t t;
	devkit__rfc3339_format(RT_NOW, s);
	cr_assert_str_eq(s, "2024-05-01T12:00:00Z");
	cr_assert_eq(devkit__rfc3339_parse("2024-05-01T12:00:00Z", &t), 0);
	cr_assert_eq(t, RT_NOW);
	cr_assert_eq(devkit__rfc3339_parse("2024-05-01T14:00:00.123456+02:00", &t), 0);
	cr_assert_eq(t, RT_NOW);
	cr_assert_eq(devkit__rfc3339_parse("2024-05-01T07:30:00-04:30", &t), 0);
	cr_assert_eq(t, RT_NOW);
	cr_assert_lt(devkit__rfc3339_parse("2024-05-01 12:00:00", &t), 0);
	cr_assert_lt(devkit__rfc3339_parse("tomorrow", &t), 0);
	cr_assert_lt(devkit__rfc3339_parse(NULL, &t), 0);
}

Test(labels, selectors)
{
	json_t *labels = json_pack("{s:s,s:s}", "app", "zk", "tier", "db");
	json_t *sel = json_pack("{s:{s:s},s:[{s:s,s:s,s:[s,s]},{s:s,s:s}]}",
		"matchLabels", "app", "zk",
		"matchExpressions", "key", "tier", "operator", "In", "values", "db", "cache",
		"key", "canary", "operator", "DoesNotExist");
	cr_assert(devkit__selector_matches(sel, labels));
	json_object_set_new(labels, "canary", json_string("yes"));
	cr_assert(!devkit__selector_matches(sel, labels));
	json_t *map = json_pack("{s:s}", "app", "zk");
	cr_assert(devkit__map_selector_matches(map, labels));
	json_t *empty = json_object();
	cr_assert(!devkit__map_selector_matches(empty, labels)); /* a Service without selector */
	cr_assert(devkit__selector_matches(empty, labels));      /* a LabelSelector {} */
	json_decref(empty);
	json_decref(map);
	json_decref(sel);
	json_decref(labels);
}
