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
