/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Java spelling of the typemaps that bindings/devkit.i names. Included by it
 * when SWIGJAVA is defined; never used alone.
 *
 * Everything SWIG generates is package-private in io.devkit: the public API is
 * the hand-written classes next to it (Context, Tunnel, Forward, ...), which
 * own lifetimes and locking. Handles cross as plain `long`, so no generated
 * class ever owns native memory behind the back of that layer.
 */

%pragma(java) jniclassclassmodifiers = "final class"
%pragma(java) moduleclassmodifiers = "final class"
%typemap(javaclassmodifiers) SWIGTYPE "final class"
/* Loaded before any native method can run, whichever class is touched first. */
%pragma(java) jniclasscode = %{
  static {
    NativeLoader.load();
  }
%}
/* The hand-written layer frees explicitly (try/finally); no finalize() here. */
%typemap(javafinalize) SWIGTYPE ""

/* Enums as compile-time int constants, in package-private classes. */
%include "enumtypeunsafe.swg"
%javaconst(1);
%typemap(javaclassmodifiers) enum SWIGTYPE "final class"
/* Version macros would land in a public DevkitCConstants interface; Java reads
 * the version from the library and the struct versions are set in C. */
%rename("$ignore", regexmatch$name="^DEVKIT_([A-Z0-9]+_)*VERSION(_[A-Z]+)?$") "";
/* String macros would land there too (SWIG 4.1 has no modifier for that
 * interface): Replica.LABEL_MANAGED, ... spell them, checked by ReplicaTest
 * against the labels the library writes. */
%rename("$ignore", regexmatch$name="^DEVKIT_REPLICA_(LABEL|ANNOTATION)_") "";

/* Read from the library at run time: AF_* are C macros that Java source cannot spell. */
%javaconst(0) DEVKIT_AF_UNSPEC;
%javaconst(0) DEVKIT_AF_INET;
%javaconst(0) DEVKIT_AF_INET6;

/* uint64_t (ids, byte counts) as long: values stay far below 2^63. */
%apply long long { uint64_t };

%{
#include <jni.h>

/* A Java byte[] with `len` bytes of `text` (no terminator); NULL for NULL. */
static jbyteArray devkit_java_bytes(JNIEnv *jenv, const char *text, size_t len)
{
	if (!text)
		return NULL;
	jbyteArray a = (*jenv)->NewByteArray(jenv, (jsize)len);
	if (a && len)
		(*jenv)->SetByteArrayRegion(jenv, a, 0, (jsize)len, (const jbyte *)text);
	return a;
}

/*
 * Throw the DevkitException subclass for `code` with the calling thread's
 * devkit_error_last() message, read right after the C call on the same thread.
 * The message crosses as UTF-8 bytes (JNI's NewStringUTF wants modified
 * UTF-8, which C messages with file names are not guaranteed to be).
 */
static void devkit_java_throw(JNIEnv *jenv, int code)
{
	if ((*jenv)->ExceptionCheck(jenv))
		return; /* one thrown from Java during the call (a listener) goes first */
	const devkit_error *e = devkit_error_last();
	const char *text = e && e->code == code && e->message ? e->message : devkit_strerror(code);
	jclass cls = (*jenv)->FindClass(jenv, "io/devkit/DevkitException");
	if (!cls)
		return; /* NoClassDefFoundError is pending */
	jmethodID make = (*jenv)->GetStaticMethodID(jenv, cls, "fromNative",
		"(I[B)Lio/devkit/DevkitException;");
	jbyteArray message = make ? devkit_java_bytes(jenv, text, strlen(text)) : NULL;
	jobject exc = message ? (*jenv)->CallStaticObjectMethod(jenv, cls, make, (jint)code, message) : NULL;
	if (exc && !(*jenv)->ExceptionCheck(jenv))
		(*jenv)->Throw(jenv, (jthrowable)exc);
	(*jenv)->DeleteLocalRef(jenv, cls);
}
%}

/* $cleanup: the arguments' freearg (strings, buffers) runs on the failure path too. */
%typemap(out) int DEVKIT_STATUS, int DEVKIT_COUNT {
	if ($1 < 0) {
		devkit_java_throw(jenv, $1);
		$cleanup
		return $null;
	}
	$result = (jint)$1;
}

/* Opaque handles are `long` in Java; T **out is a long[1] that receives one. */
%define DEVKIT_HANDLE(T)
%typemap(jni) T *, const T * "jlong"
%typemap(jtype) T *, const T * "long"
%typemap(jstype) T *, const T * "long"
%typemap(javain) T *, const T * "$javainput"
%typemap(javaout) T *, const T * { return $jnicall; }
%typemap(in) T *, const T * %{ $1 = ($1_ltype)(intptr_t)$input; %}
%typemap(out) T *, const T * %{ $result = (jlong)(intptr_t)$1; %}

%typemap(jni) T **out "jlongArray"
%typemap(jtype) T **out "long[]"
%typemap(jstype) T **out "long[]"
%typemap(javain) T **out "$javainput"
%typemap(in) T **out (T *tmp = NULL) {
	if (!$input || (*jenv)->GetArrayLength(jenv, $input) < 1) {
		SWIG_JavaThrowException(jenv, SWIG_JavaIllegalArgumentException, "a long[1] is required");
		return $null;
	}
	$1 = &tmp;
}
%typemap(argout) T **out {
	jlong handle = (jlong)(intptr_t)*$1;
	(*jenv)->SetLongArrayRegion(jenv, $input, 0, 1, &handle);
}
%enddef

/* devkit_buf *out: a String[1] that receives the text; the buffer is always disposed. */
%typemap(jni) devkit_buf *DEVKIT_OUT_BUF "jobjectArray"
%typemap(jtype) devkit_buf *DEVKIT_OUT_BUF "byte[][]"
%typemap(jstype) devkit_buf *DEVKIT_OUT_BUF "byte[][]"
%typemap(javain) devkit_buf *DEVKIT_OUT_BUF "$javainput"
%typemap(in) devkit_buf *DEVKIT_OUT_BUF (devkit_buf tmp = DEVKIT_BUF_INIT) {
	if (!$input || (*jenv)->GetArrayLength(jenv, $input) < 1) {
		SWIG_JavaThrowException(jenv, SWIG_JavaIllegalArgumentException, "a byte[1][] is required");
		return $null;
	}
	$1 = &tmp;
}
%typemap(argout) devkit_buf *DEVKIT_OUT_BUF {
	jbyteArray text = devkit_java_bytes(jenv, $1->ptr ? $1->ptr : "", $1->size);
	if (text)
		(*jenv)->SetObjectArrayElement(jenv, $input, 0, text);
}
%typemap(freearg) devkit_buf *DEVKIT_OUT_BUF {
	devkit_buf_dispose($1);
}

/* devkit_buf *out holding bytes (command output, pcap): the same byte[][] as
 * DEVKIT_OUT_BUF, which Java already gets as raw bytes (the typed layer decodes text). */
%apply devkit_buf *DEVKIT_OUT_BUF { devkit_buf *DEVKIT_OUT_BYTES };

/*
 * (data, len) the caller sends (stdin, keystrokes): a byte[], null for (NULL, 0).
 * The elements are a copy (JNI_ABORT on release: C never writes them), held
 * until the call returns, so a write that blocks for room pins nothing.
 */
%typemap(jni) (const void *DEVKIT_IN_BYTES, size_t DEVKIT_IN_LEN) "jbyteArray"
%typemap(jtype) (const void *DEVKIT_IN_BYTES, size_t DEVKIT_IN_LEN) "byte[]"
%typemap(jstype) (const void *DEVKIT_IN_BYTES, size_t DEVKIT_IN_LEN) "byte[]"
%typemap(javain) (const void *DEVKIT_IN_BYTES, size_t DEVKIT_IN_LEN) "$javainput"
%typemap(in) (const void *DEVKIT_IN_BYTES, size_t DEVKIT_IN_LEN) (jbyte *bytes = NULL) {
	$1 = NULL;
	$2 = 0;
	if ($input) {
		bytes = (*jenv)->GetByteArrayElements(jenv, $input, NULL);
		if (!bytes)
			return $null; /* OutOfMemoryError is pending */
		$1 = ($1_ltype)bytes;
		$2 = (size_t)(*jenv)->GetArrayLength(jenv, $input);
	}
}
%typemap(freearg) (const void *DEVKIT_IN_BYTES, size_t DEVKIT_IN_LEN) {
	if (bytes$argnum)
		(*jenv)->ReleaseByteArrayElements(jenv, $input, bytes$argnum, JNI_ABORT);
}

/* exec.h's stream numbers would land in a public DevkitCConstants interface:
 * ExecStream spells them (1 stdout, 2 stderr). */
%ignore DEVKIT_EXEC_STDOUT;
%ignore DEVKIT_EXEC_STDERR;
/* devkit_capture_options.max_packets as long, as uint64_t: far below 2^63. */
%apply long long { unsigned long long };

/* Strings cross as UTF-8 bytes both ways (see Utf8.java), not modified UTF-8. */
%typemap(jni) const char * "jbyteArray"
%typemap(jtype) const char * "byte[]"
%typemap(jstype) const char * "String"
%typemap(javain) const char * "Utf8.encode($javainput)"
%typemap(javaout) const char * { return Utf8.decode($jnicall); }
%typemap(in) const char * (jbyte *bytes = NULL) {
	$1 = NULL;
	if ($input) {
		bytes = (*jenv)->GetByteArrayElements(jenv, $input, NULL);
		if (!bytes)
			return $null;
		$1 = ($1_ltype)bytes;
	}
}
%typemap(freearg) const char * {
	if (bytes$argnum)
		(*jenv)->ReleaseByteArrayElements(jenv, $input, bytes$argnum, JNI_ABORT);
}
%typemap(out) const char * %{ $result = devkit_java_bytes(jenv, $1, $1 ? strlen($1) : 0); %}

/* Inline char arrays (event address and message) as String. */
%typemap(jni) char [ANY] "jbyteArray"
%typemap(jtype) char [ANY] "byte[]"
%typemap(jstype) char [ANY] "String"
%typemap(javaout) char [ANY] { return Utf8.decode($jnicall); }
%typemap(out) char [ANY] %{ $result = devkit_java_bytes(jenv, $1, strnlen($1, $1_dim0)); %}

/*
 * devkit_deploy with its progress callback, which C calls on the calling
 * thread (live.h): that is the Java thread inside this JNI call, so the
 * callback may call Java (DeployProgressSink.progress) with the call's own
 * JNIEnv. Nothing is handed to the I/O thread. Handles and structs cross as
 * addresses (the typed layer passes getCPtr()): this is parsed before the
 * headers that declare them. An exception the listener throws is left
 * pending (later progress calls are skipped) and surfaces once C returns.
 */
%{
typedef struct devkit_java_progress {
	JNIEnv *env;
	jobject sink;
	jmethodID method;
} devkit_java_progress;

static void devkit_java_progress_cb(void *user, const char *stage, uint64_t done, uint64_t total)
{
	devkit_java_progress *p = user;
	JNIEnv *jenv = p->env;
	if ((*jenv)->ExceptionCheck(jenv))
		return;
	jbyteArray s = devkit_java_bytes(jenv, stage ? stage : "", stage ? strlen(stage) : 0);
	if (!s)
		return;
	(*jenv)->CallVoidMethod(jenv, p->sink, p->method, s, (jlong)done, (jlong)total);
	(*jenv)->DeleteLocalRef(jenv, s);
}
%}
%typemap(jni) devkit_java_progress *sink "jobject"
%typemap(jtype) devkit_java_progress *sink "DeployProgressSink"
%typemap(jstype) devkit_java_progress *sink "DeployProgressSink"
%typemap(javain) devkit_java_progress *sink "$javainput"
%typemap(in) devkit_java_progress *sink (devkit_java_progress tmp) {
	$1 = NULL;
	if ($input) {
		jclass cls = (*jenv)->GetObjectClass(jenv, $input);
		tmp.env = jenv;
		tmp.sink = $input;
		tmp.method = cls ? (*jenv)->GetMethodID(jenv, cls, "progress", "([BJJ)V") : NULL;
		if (cls)
			(*jenv)->DeleteLocalRef(jenv, cls);
		if (!tmp.method)
			return $null; /* NoSuchMethodError is pending */
		$1 = &tmp;
	}
}
%apply int DEVKIT_STATUS { int devkit_java_deploy };
%inline %{
int devkit_java_deploy(long long k8s, long long opts, long long result,
	devkit_java_progress *sink)
{
	devkit_deploy_options *o = (devkit_deploy_options *)(intptr_t)opts;
	if (o && sink) {
		o->progress = devkit_java_progress_cb;
		o->progress_user = sink;
	}
	int rc = devkit_deploy((devkit_k8s *)(intptr_t)k8s, o,
		(devkit_deploy_result *)(intptr_t)result);
	if (o) {
		o->progress = NULL;
		o->progress_user = NULL;
	}
	return rc;
}
%}
