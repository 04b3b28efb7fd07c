/* ---- Close, Dispose and __del__ ---------------------------------------------- */

/* Socket.Close() and Socket.Dispose() with tracing off: socket._dispose's steps in its order
   (disposed, then disconnected if connected, then the OpQueue's close, then the Unix domain
   socket file through socket._unlink_file), without the two frames of Close and _dispose.
   Close(timeout), a class whose Dispose is its own, and anything the slots do not show plainly
   go to the Python methods.  Filled by configure_dispose(), after configure(). */

static Py_ssize_t s_connected, s_disconnected, s_unlink_path; /* SocketCore */
static PyObject *dispose_method;                              /* Socket.Dispose as installed */
static PyObject *unlink_file;                                 /* socket._unlink_file */
static PyObject *str_close, *str_dispose;
static int dispose_configured = 0;
static PyObject *collecting_dict, *str_collector; /* _engine.collecting's globals, "_collector" */

/* Whether this thread runs a garbage collection (_engine.collecting.collecting()'s twin): a
   finalizer's Close is then the Python method's, which takes no lock. */
static int
collecting_here(void)
{
    PyObject *who = PyDict_GetItemWithError(collecting_dict, str_collector); /* borrowed */
    if (who == NULL || !PyLong_CheckExact(who)) {
        PyErr_Clear();
        return 0;
    }
    unsigned long id = PyLong_AsUnsignedLong(who);
    if (id == (unsigned long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return id != 0 && id == PyThread_get_thread_ident();
}

/* NULL without an error: the Python method runs (nothing has been changed yet). */
static PyObject *
dispose_steady(PyObject *self)
{
    PyObject *disposed = SLOT(self, s_disposed);
    PyObject *connected = SLOT(self, s_connected);
    PyObject *io = SLOT(self, s_io);
    if (disposed == NULL || connected == NULL || io == NULL || SLOT(self, s_unlink_path) == NULL ||
        !PyBool_Check(disposed) || !PyBool_Check(connected))
        return NULL;
    if (disposed == Py_True)
        Py_RETURN_NONE;
    set_slot(self, s_disposed, Py_True);
    if (connected == Py_True) {
        set_slot(self, s_connected, Py_False);
        set_slot(self, s_disconnected, Py_True);
    }
    Py_INCREF(io);
    PyObject *r = PyObject_CallMethodNoArgs(io, str_close);
    Py_DECREF(io);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    PyObject *path = SLOT(self, s_unlink_path);
    if (path != NULL && path != Py_None)
        return PyObject_CallOneArg(unlink_file, self);
    Py_RETURN_NONE;
}

static PyObject *
fast_dispose(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 0 || !dispose_configured || !is_socket(self) || tracing_enabled() || collecting_here())
        return NULL;
    return dispose_steady(self);
}

static PyObject *
fast_close(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    /* Close's own test, type(self).Dispose is _DISPOSE, read as the type's attribute lookup
       reads it for a class without a metaclass of its own. */
    if (nargs != 0 || !dispose_configured || !is_socket(self) || !Py_IS_TYPE(Py_TYPE(self), &PyType_Type) ||
        _PyType_Lookup(Py_TYPE(self), str_dispose) != dispose_method || tracing_enabled() || collecting_here())
        return NULL;
    return dispose_steady(self);
}

/* Socket.__del__ of a disposed socket (every socket closed before it is collected): nothing to
   do, without the Python frame; anything else (not disposed, a constructor that failed before
   the slot was set) is the Python __del__'s. */
static PyObject *
fast_del(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 0 || !dispose_configured || !is_socket(self) || SLOT(self, s_disposed) != Py_True)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
configure_dispose(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "configure_dispose(Dispose, unlink_file, collecting_globals)");
        return NULL;
    }
    if (!configured || SocketCoreType == NULL) {
        PyErr_SetString(PyExc_TypeError, "configure_dispose() before configure()");
        return NULL;
    }
    dispose_configured = 0;
    if ((s_connected = slot_offset(SocketCoreType, "_connected")) < 0 ||
        (s_disconnected = slot_offset(SocketCoreType, "_disconnected")) < 0 ||
        (s_unlink_path = slot_offset(SocketCoreType, "_unlink_path")) < 0)
        return NULL;
    if ((str_close == NULL && (str_close = PyUnicode_InternFromString("close")) == NULL) ||
        (str_dispose == NULL && (str_dispose = PyUnicode_InternFromString("Dispose")) == NULL) ||
        (str_collector == NULL && (str_collector = PyUnicode_InternFromString("_collector")) == NULL))
        return NULL;
    Py_XSETREF(dispose_method, Py_NewRef(args[0]));
    Py_XSETREF(unlink_file, Py_NewRef(args[1]));
    Py_XSETREF(collecting_dict, Py_NewRef(args[2]));
    dispose_configured = 1;
    Py_RETURN_NONE;
}
