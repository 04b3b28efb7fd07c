/* ---- inline completions ------------------------------------------------- */

/* The completions this thread still has to run, while its outermost run_inline runs. */
static __thread PyObject *inline_pending;

/* asyncresult._run_inline: run a callback on the caller's thread without recursing (a
   callback whose next Begin completes at once is queued here and run by the outer call). */
static PyObject *
run_inline_c(PyObject *module, PyObject *op)
{
    if (inline_pending != NULL) {
        if (PyList_Append(inline_pending, op) < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    PyObject *pending = PyList_New(1);
    if (pending == NULL)
        return NULL;
    PyList_SET_ITEM(pending, 0, Py_NewRef(op));
    inline_pending = pending;
    Py_ssize_t i = 0;
    while (i < PyList_GET_SIZE(pending)) {
        PyObject *item = PyList_GET_ITEM(pending, i);
        PyList_SET_ITEM(pending, i, Py_NewRef(Py_None));
        i++;
        run_callback(item);
        Py_DECREF(item);
        if (i >= 256) {
            /* A long chain appends one for each it runs: drop the finished head. */
            if (PyList_SetSlice(pending, 0, i, NULL) < 0)
                PyErr_Clear();
            else
                i = 0;
        }
    }
    inline_pending = NULL;
    Py_DECREF(pending);
    Py_RETURN_NONE;
}

/* ---- the operation core: AsyncOperation's slots and completion ------------ */

/* asyncresult._PyOpCore compiled: the same slots (member descriptors of the same names and
   kind, so that Python reads and writes them as it reads __slots__), __init__, _complete,
   _abort and _run_callback.  asyncresult.AsyncOperation derives from this type when the
   accelerator is built, from _PyOpCore when not: one interface, two implementations, as
   asyncio's _asyncio.Future and futures.Future.  What it calls (the dispatcher's post, the
   exception report, ArgumentException, ABORTED, execution_context) it is given once by
   op_core(). */

static PyObject *core_post;       /* dispatch.dispatcher.post */
static PyObject *core_arg_error;  /* exceptions.ArgumentException */
static PyObject *core_aborted;    /* asyncresult.ABORTED */
static PyObject *str_complete, *str_set_even, *str_inline, *str_capture, *str_callback_param;
static PyObject *msg_not_callable;

/* The fields io ... handle, one after the other in the struct. */
#define CORE_FIELDS(self) (&(self)->io)
#define CORE_NFIELDS ((offsetof(OpCore, handle) - offsetof(OpCore, io)) / sizeof(PyObject *) + 1)

static int
core_traverse(OpCore *self, visitproc visit, void *arg)
{
    for (size_t i = 0; i < CORE_NFIELDS; i++)
        Py_VISIT(CORE_FIELDS(self)[i]);
    return 0;
}

static int
core_clear(OpCore *self)
{
    for (size_t i = 0; i < CORE_NFIELDS; i++)
        Py_CLEAR(CORE_FIELDS(self)[i]);
    return 0;
}

static void
core_dealloc(OpCore *self)
{
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    core_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The callback's context, as _PyOpCore.__init__ takes it: a copy of the current one, or
   while some thread suppresses flow capture_context() or an empty Context. */
static PyObject *
core_context(void)
{
    if (suppressing_threads == 0)
        return PyContext_CopyCurrent();
    PyObject *capture = PyDict_GetItemWithError(exec_ctx_dict, str_capture);
    if (capture == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_NameError, "execution_context.capture_context");
        return NULL;
    }
    Py_INCREF(capture);
    PyObject *ctx = PyObject_CallNoArgs(capture);
    Py_DECREF(capture);
    if (ctx == NULL)
        return NULL;
    int truth = PyObject_IsTrue(ctx);
    if (truth < 0) {
        Py_DECREF(ctx);
        return NULL;
    }
    if (!truth)
        Py_SETREF(ctx, PyContext_New());
    return ctx;
}

static int core_setup(OpCore *self, PyObject *io, PyObject *callback, PyObject *state);

static int
core_init(OpCore *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"io", "callback", "state", NULL};
    PyObject *io, *callback, *state;
    if (kwds == NULL && PyTuple_GET_SIZE(args) == 3) {
        io = PyTuple_GET_ITEM(args, 0);
        callback = PyTuple_GET_ITEM(args, 1);
        state = PyTuple_GET_ITEM(args, 2);
    }
    else if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO:AsyncOperation", kwlist, &io, &callback, &state))
        return -1;
    return core_setup(self, io, callback, state);
}

/* __init__(io, callback, state) past its argument parsing (the compiled Begin... calls make
   their operations with it: see new_operation). */
static int
core_setup(OpCore *self, PyObject *io, PyObject *callback, PyObject *state)
{
    Py_XSETREF(self->io, Py_NewRef(io));
    Py_XSETREF(self->callback, Py_NewRef(callback));
    Py_XSETREF(self->state, Py_NewRef(state));
    Py_XSETREF(self->ctx, Py_NewRef(Py_None));
    if (callback != Py_None) {
        if (!PyCallable_Check(callback)) {
            /* Refused here, in Begin..., not later on a completion thread. */
            PyObject *exc = PyObject_CallFunctionObjArgs(core_arg_error, msg_not_callable, str_callback_param, NULL);
            if (exc != NULL) {
                PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
                Py_DECREF(exc);
            }
            return -1;
        }
        PyObject *ctx = core_context();
        if (ctx == NULL)
            return -1;
        Py_SETREF(self->ctx, ctx);
    }
    Py_XSETREF(self->done, Py_NewRef(Py_False));
    Py_XSETREF(self->sync, Py_NewRef(Py_False));
    Py_XSETREF(self->ended, Py_NewRef(Py_False));
    Py_XSETREF(self->value, Py_NewRef(Py_None));
    Py_XSETREF(self->error, Py_NewRef(Py_None));
    Py_XSETREF(self->handle, Py_NewRef(Py_None));
    return 0;
}

/* A slot's value, or AttributeError as an unset __slots__ member raises. */
static PyObject *
core_field(OpCore *self, PyObject *v, const char *name)
{
    if (v == NULL)
        PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute '%s'", Py_TYPE(self)->tp_name, name);
    return v;
}

static int
truth(PyObject *v)
{
    return v == Py_True ? 1 : v == Py_False || v == Py_None ? 0 : PyObject_IsTrue(v);
}

/* "if self._done": 1, 0, or -1 with an exception (unset, or a truth test that raised). */
static int
core_done(OpCore *self)
{
    PyObject *done = core_field(self, self->done, "_done");
    return done == NULL ? -1 : truth(done);
}

static PyObject *
core_complete(OpCore *self, PyObject *synchronously)
{
    int t = core_done(self);
    if (t != 0)
        return t < 0 ? NULL : Py_NewRef(Py_None);
    Py_XSETREF(self->sync, Py_NewRef(synchronously));
    Py_XSETREF(self->done, Py_NewRef(Py_True));
    PyObject *h = core_field(self, self->handle, "_handle");
    if (h == NULL)
        return NULL;
    if (h != Py_None) {
        Py_INCREF(h);
        PyObject *r = PyObject_CallMethodNoArgs(h, str_set_even);
        Py_DECREF(h);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
    }
    PyObject *cb = core_field(self, self->callback, "_callback");
    if (cb == NULL)
        return NULL;
    if (cb == Py_None)
        Py_RETURN_NONE;
    int inline_ = truth(synchronously);
    if (inline_ < 0)
        return NULL;
    if (inline_) {
        PyObject *io = core_field(self, self->io, "_io");
        if (io == NULL)
            return NULL;
        if (configured && Py_IS_TYPE(io, OpQueueType) && SLOT(io, q_inline) != NULL) {
            inline_ = truth(SLOT(io, q_inline));
        }
        else {
            Py_INCREF(io);
            PyObject *v = PyObject_GetAttr(io, str_inline);
            Py_DECREF(io);
            if (v == NULL)
                return NULL;
            inline_ = truth(v);
            Py_DECREF(v);
        }
        if (inline_ < 0)
            return NULL;
    }
    if (inline_)
        return run_inline_c(NULL, (PyObject *)self);
    if (configured)
        return post_completion((PyObject *)self);
    return PyObject_CallOneArg(core_post, (PyObject *)self);
}

static PyObject *
core_abort(OpCore *self, PyObject *unused)
{
    int t = core_done(self);
    if (t != 0)
        return t < 0 ? NULL : Py_NewRef(Py_None);
    Py_XSETREF(self->error, Py_NewRef(core_aborted));
    /* self._complete: a subclass's override (a send lets go of its data there). */
    return PyObject_CallMethodOneArg((PyObject *)self, str_complete, Py_False);
}

static PyObject *
core_run_callback(OpCore *self, PyObject *unused)
{
    run_callback((PyObject *)self);
    Py_RETURN_NONE;
}

static PyMethodDef core_methods[] = {
    {"_complete", (PyCFunction)core_complete, METH_O, "Complete once: the first _complete or _abort wins."},
    {"_abort", (PyCFunction)core_abort, METH_NOARGS, "Complete as aborted (a close), unless already complete."},
    {"_run_callback", (PyCFunction)core_run_callback, METH_NOARGS, "Run the callback in its context; report what it raises."},
    {NULL},
};

static PyMemberDef core_members[] = {
    {"_io", T_OBJECT_EX, offsetof(OpCore, io), 0, NULL},
    {"_callback", T_OBJECT_EX, offsetof(OpCore, callback), 0, NULL},
    {"_state", T_OBJECT_EX, offsetof(OpCore, state), 0, NULL},
    {"_ctx", T_OBJECT_EX, offsetof(OpCore, ctx), 0, NULL},
    {"_done", T_OBJECT_EX, offsetof(OpCore, done), 0, NULL},
    {"_sync", T_OBJECT_EX, offsetof(OpCore, sync), 0, NULL},
    {"_ended", T_OBJECT_EX, offsetof(OpCore, ended), 0, NULL},
    {"_value", T_OBJECT_EX, offsetof(OpCore, value), 0, NULL},
    {"_error", T_OBJECT_EX, offsetof(OpCore, error), 0, NULL},
    {"_handle", T_OBJECT_EX, offsetof(OpCore, handle), 0, NULL},
    {NULL},
};

static PyTypeObject OpCoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dotnet_sockets._speedups.OpCore",
    .tp_doc = "AsyncOperation's compiled core (see asyncresult._PyOpCore, its pure-Python twin).",
    .tp_basicsize = sizeof(OpCore),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)core_init,
    .tp_traverse = (traverseproc)core_traverse,
    .tp_clear = (inquiry)core_clear,
    .tp_dealloc = (destructor)core_dealloc,
    .tp_weaklistoffset = offsetof(OpCore, weakreflist),
    .tp_methods = core_methods,
    .tp_members = core_members,
};

/* op_core(post, report_exception, ArgumentException, ABORTED, execution_context): the core
   type, given what it calls; execution_context (the module) is told to keep this module's
   count of the threads that suppress flow up to date. */
static PyObject *
op_core(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyModule_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError, "op_core(post, report_exception, ArgumentException, ABORTED, execution_context)");
        return NULL;
    }
    PyObject *ec = args[4];
    PyObject *d = PyModule_GetDict(ec); /* borrowed */
    PyObject *lock = PyObject_GetAttrString(ec, "_count_lock");
    if (lock == NULL)
        return NULL;
    PyObject *r = PyObject_CallMethod(lock, "__enter__", NULL);
    if (r == NULL) {
        Py_DECREF(lock);
        return NULL;
    }
    Py_DECREF(r);
    int failed = 0;
    PyObject *n = PyDict_GetItemString(d, "_suppressing_threads");
    PyObject *setter = PyObject_GetAttrString(module, "set_suppressing");
    if (n == NULL || setter == NULL || PyObject_SetAttrString(ec, "_count_changed", setter) < 0)
        failed = 1;
    else {
        long v = PyLong_AsLong(n);
        if (v == -1 && PyErr_Occurred())
            failed = 1;
        else
            suppressing_threads = v;
    }
    Py_XDECREF(setter);
    r = PyObject_CallMethod(lock, "__exit__", "OOO", Py_None, Py_None, Py_None);
    Py_DECREF(lock);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    if (failed) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_AttributeError, "execution_context._suppressing_threads");
        return NULL;
    }
    Py_XSETREF(core_post, Py_NewRef(args[0]));
    Py_XSETREF(report_exception, Py_NewRef(args[1]));
    Py_XSETREF(core_arg_error, Py_NewRef(args[2]));
    Py_XSETREF(core_aborted, Py_NewRef(args[3]));
    Py_XSETREF(exec_ctx_dict, Py_NewRef(d));
    return Py_NewRef((PyObject *)&OpCoreType);
}
