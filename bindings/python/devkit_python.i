/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Python spelling of the typemaps that bindings/devkit.i names. Included by it
 * when SWIGPYTHON is defined; never used alone.
 *
 * The module is built with threads="1" (swig -threads): every wrapped call
 * releases the GIL while C runs, so a tunnel that is connecting or a poll that
 * waits never stops other Python threads.
 */

%{
/*
 * Raise the devkit.Error subclass for `code`, carrying the calling thread's
 * devkit_error_last() message. Runs right after the C call, with the GIL held
 * again but on the same OS thread, so the thread-local error is still the one
 * that call left. The classes live in Python (devkit/_errors.py) so that there
 * is one definition of the hierarchy.
 */
static void devkit_py_raise(int code)
{
	const devkit_error *e = devkit_error_last();
	const char *text = e && e->code == code && e->message ? e->message : devkit_strerror(code);
	PyObject *message = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
	PyObject *module = message ? PyImport_ImportModule("devkit._errors") : NULL;
	PyObject *exc = module ? PyObject_CallMethod(module, "_from_code", "iO", code, message) : NULL;
	if (exc)
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	/* Otherwise the failing step above has set its own exception. */
	Py_XDECREF(exc);
	Py_XDECREF(module);
	Py_XDECREF(message);
}
%}

%typemap(out) int DEVKIT_STATUS {
	if ($1 < 0) {
		devkit_py_raise($1);
		SWIG_fail;
	}
	$result = SWIG_Py_Void();
}

%typemap(out) int DEVKIT_COUNT {
	if ($1 < 0) {
		devkit_py_raise($1);
		SWIG_fail;
	}
	$result = PyLong_FromLong($1);
}

/* T **out: not an argument in Python, the new handle is returned instead. */
%define DEVKIT_HANDLE(T)
%typemap(in, numinputs=0) T **out (T *tmp = NULL) {
	$1 = &tmp;
}
%typemap(argout) T **out {
	$result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(SWIG_as_voidptr(*$1), $*1_descriptor, 0));
}
%enddef

/* devkit_buf *out: returned as str, disposed of in every case. */
%typemap(in, numinputs=0) devkit_buf *DEVKIT_OUT_BUF (devkit_buf tmp = DEVKIT_BUF_INIT) {
	$1 = &tmp;
}
%typemap(argout) devkit_buf *DEVKIT_OUT_BUF {
	$result = SWIG_Python_AppendOutput($result,
		PyUnicode_DecodeUTF8($1->ptr ? $1->ptr : "", (Py_ssize_t)$1->size, "replace"));
}
%typemap(freearg) devkit_buf *DEVKIT_OUT_BUF {
	devkit_buf_dispose($1);
}

/* devkit_buf *out holding bytes (command output, pcap): returned as bytes. */
%typemap(in, numinputs=0) devkit_buf *DEVKIT_OUT_BYTES (devkit_buf tmp = DEVKIT_BUF_INIT) {
	$1 = &tmp;
}
%typemap(argout) devkit_buf *DEVKIT_OUT_BYTES {
	$result = SWIG_Python_AppendOutput($result,
		PyBytes_FromStringAndSize($1->ptr ? $1->ptr : "", (Py_ssize_t)$1->size));
}
%typemap(freearg) devkit_buf *DEVKIT_OUT_BYTES {
	devkit_buf_dispose($1);
}

/*
 * (data, len) the caller sends: any bytes-like object (bytes, bytearray,
 * memoryview), or None for (NULL, 0). The buffer is held until the call has
 * returned, so it stays valid while C runs without the GIL.
 */
%typemap(in) (const void *DEVKIT_IN_BYTES, size_t DEVKIT_IN_LEN) (Py_buffer view, int have_view = 0) {
	if ($input == Py_None) {
		$1 = NULL;
		$2 = 0;
	} else {
		if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) != 0)
			SWIG_fail;
		have_view = 1;
		$1 = ($1_ltype)view.buf;
		$2 = (size_t)view.len;
	}
}
%typemap(freearg) (const void *DEVKIT_IN_BYTES, size_t DEVKIT_IN_LEN) {
	if (have_view$argnum)
		PyBuffer_Release(&view$argnum);
}
%typemap(typecheck, precedence=SWIG_TYPECHECK_STRING) (const void *DEVKIT_IN_BYTES, size_t DEVKIT_IN_LEN) {
	$1 = $input == Py_None || PyObject_CheckBuffer($input);
}

/*
 * Which devkit_buf holds bytes, for the functions whose `out` devkit.i leaves
 * as DEVKIT_OUT_BUF (text, the same byte[] in Java): command and terminal
 * output and pcap are bytes in Python. Multi-argument typemaps take
 * precedence over the single ones, so they pick exactly these functions:
 *   devkit_exec_read (int *stream, devkit_buf *out)  -> (n, stream, bytes)
 *   devkit_exec_run  (devkit_buf *out, devkit_buf *err, ...) -> (bytes, bytes, code)
 *   devkit_shell_read, devkit_capture_read (handle, devkit_buf *out) -> (n, bytes)
 */
%typemap(in, numinputs=0) (int *stream, devkit_buf *out) (int stream_tmp = 0,
	devkit_buf buf_tmp = DEVKIT_BUF_INIT) {
	$1 = &stream_tmp;
	$2 = &buf_tmp;
}
%typemap(argout) (int *stream, devkit_buf *out) {
	$result = SWIG_Python_AppendOutput($result, PyLong_FromLong(*$1));
	$result = SWIG_Python_AppendOutput($result,
		PyBytes_FromStringAndSize($2->ptr ? $2->ptr : "", (Py_ssize_t)$2->size));
}
%typemap(freearg) (int *stream, devkit_buf *out) {
	devkit_buf_dispose($2);
}

%typemap(in, numinputs=0) (devkit_buf *out, devkit_buf *err) (devkit_buf out_tmp = DEVKIT_BUF_INIT,
	devkit_buf err_tmp = DEVKIT_BUF_INIT) {
	$1 = &out_tmp;
	$2 = &err_tmp;
}
%typemap(argout) (devkit_buf *out, devkit_buf *err) {
	$result = SWIG_Python_AppendOutput($result,
		PyBytes_FromStringAndSize($1->ptr ? $1->ptr : "", (Py_ssize_t)$1->size));
	$result = SWIG_Python_AppendOutput($result,
		PyBytes_FromStringAndSize($2->ptr ? $2->ptr : "", (Py_ssize_t)$2->size));
}
%typemap(freearg) (devkit_buf *out, devkit_buf *err) {
	devkit_buf_dispose($1);
	devkit_buf_dispose($2);
}

%define DEVKIT_PY_READ_BYTES(T, NAME)
%typemap(in) (T *NAME, devkit_buf *out) (void *argp = 0, int res = 0, devkit_buf tmp = DEVKIT_BUF_INIT) {
	res = SWIG_ConvertPtr($input, &argp, $descriptor(T *), 0);
	if (!SWIG_IsOK(res))
		SWIG_exception_fail(SWIG_ArgError(res), "in method '$symname', argument 1 of type '" #T " *'");
	$1 = (T *)argp;
	$2 = &tmp;
}
%typemap(argout) (T *NAME, devkit_buf *out) {
	$result = SWIG_Python_AppendOutput($result,
		PyBytes_FromStringAndSize($2->ptr ? $2->ptr : "", (Py_ssize_t)$2->size));
}
%typemap(freearg) (T *NAME, devkit_buf *out) {
	devkit_buf_dispose($2);
}
%enddef
DEVKIT_PY_READ_BYTES(devkit_shell, s)
DEVKIT_PY_READ_BYTES(devkit_capture, c)

/*
 * devkit_deploy with its progress callback: a Python callable (or None),
 * called as progress(stage, done, total). The C callback runs on the calling
 * thread, inside devkit_deploy, where the wrapper has released the GIL: the
 * trampoline takes it back for the call. The typed layer passes a callable
 * that never raises (it keeps the user's exception and raises it after the
 * deploy); anything that escapes anyway is reported as unraisable.
 */
%{
static void devkit_py_deploy_progress(void *user, const char *stage, uint64_t done,
	uint64_t total)
{
	PyGILState_STATE gil = PyGILState_Ensure();
	PyObject *r = PyObject_CallFunction((PyObject *)user, "sKK", stage,
		(unsigned long long)done, (unsigned long long)total);
	if (r)
		Py_DECREF(r);
	else
		PyErr_WriteUnraisable((PyObject *)user);
	PyGILState_Release(gil);
}
%}
%apply int DEVKIT_STATUS { int devkit_py_deploy };
%inline %{
int devkit_py_deploy(devkit_k8s *k8s, devkit_deploy_options *opts,
	devkit_deploy_result *result, PyObject *progress)
{
	int have = progress && progress != Py_None;
	if (opts) {
		opts->progress = have ? devkit_py_deploy_progress : NULL;
		opts->progress_user = have ? progress : NULL;
	}
	int rc = devkit_deploy(k8s, opts, result);
	if (opts) {
		opts->progress = NULL;
		opts->progress_user = NULL;
	}
	return rc;
}
%}
