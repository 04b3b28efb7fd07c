/* ---- the fast-method descriptor ----------------------------------------- */

typedef PyObject *(*fastfunc)(PyObject *self, PyObject *const *args, Py_ssize_t nargs);

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    fastfunc fast;       /* NULL result + no error set: run the fallback */
    PyObject *fallback;  /* the pure-Python function, which also supplies the metadata */
} FastMethod;

static PyObject *
fastmethod_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    FastMethod *m = (FastMethod *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames == NULL && nargs >= 1 && configured) {
        PyObject *r = m->fast(args[0], args + 1, nargs - 1);
        if (r != NULL || PyErr_Occurred())
            return r;
    }
    return PyObject_Vectorcall(m->fallback, args, nargsf, kwnames);
}

static PyObject *
fastmethod_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

static PyObject *
fastmethod_getattro(PyObject *self, PyObject *name)
{
    PyObject *r = PyObject_GenericGetAttr(self, name);
    if (r != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError))
        return r;
    PyErr_Clear();
    /* __doc__, __name__, __qualname__, __module__, __annotations__, __defaults__...: the
       Python function's, so that help(), inspect and Sphinx see the documented method. */
    return PyObject_GetAttr(((FastMethod *)self)->fallback, name);
}

static PyObject *
fastmethod_wrapped(PyObject *self, void *closure)
{
    return Py_NewRef(((FastMethod *)self)->fallback);
}

static PyObject *
fastmethod_doc(PyObject *self, void *closure)
{
    return PyObject_GetAttrString(((FastMethod *)self)->fallback, "__doc__");
}

static PyObject *
fastmethod_repr(PyObject *self)
{
    return PyUnicode_FromFormat("<accelerated %R>", ((FastMethod *)self)->fallback);
}

static int
fastmethod_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(((FastMethod *)self)->fallback);
    return 0;
}

static int
fastmethod_clear(PyObject *self)
{
    Py_CLEAR(((FastMethod *)self)->fallback);
    return 0;
}

static void
fastmethod_dealloc(PyObject *self)
{
    PyObject_GC_UnTrack(self);
    fastmethod_clear(self);
    Py_TYPE(self)->tp_free(self);
}

static PyGetSetDef fastmethod_getset[] = {
    {"__wrapped__", fastmethod_wrapped, NULL, NULL, NULL},
    {"__doc__", fastmethod_doc, NULL, NULL, NULL},
    {NULL},
};

static PyTypeObject FastMethodType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dotnet_sockets._speedups.FastMethod",
    .tp_basicsize = sizeof(FastMethod),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_vectorcall_offset = offsetof(FastMethod, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_descr_get = fastmethod_get,
    .tp_getattro = fastmethod_getattro,
    .tp_repr = fastmethod_repr,
    .tp_traverse = fastmethod_traverse,
    .tp_clear = fastmethod_clear,
    .tp_dealloc = fastmethod_dealloc,
    .tp_getset = fastmethod_getset,
};

/* A FastMethod that runs f, and the Python function fallback for everything f does not take. */
static PyObject *
fast_method_new(fastfunc f, PyObject *fallback)
{
    FastMethod *m = PyObject_GC_New(FastMethod, &FastMethodType);
    if (m == NULL)
        return NULL;
    m->vectorcall = fastmethod_vectorcall;
    m->fast = f;
    m->fallback = Py_NewRef(fallback);
    PyObject_GC_Track((PyObject *)m);
    return (PyObject *)m;
}

static PyObject *run_inline_c(PyObject *module, PyObject *op);

/* Dispatcher.post without its Python frame (the hottest call of the unthrottled send loop):
   the same two cases in the same order, read from the same objects.  On a completion worker
   (its dispatcher._tls.run_next is a deque) the item joins that deque; anywhere else the
   shared deque, and a worker is woken when none is awake.  Anything unexpected: post itself. */
static PyObject *
post_completion(PyObject *op)
{
    PyObject *tls = SLOT(dispatcher, d_tls);
    if (tls == NULL)
        return PyObject_CallOneArg(dispatch_post, op);
    PyObject *own = PyObject_GetAttr(tls, str_run_next);
    if (own == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return NULL;
        PyErr_Clear();
    }
    else if (own != Py_None) {
        PyObject *res = Py_IS_TYPE(own, DequeType) ? PyObject_CallMethodOneArg(own, str_append, op)
                                                   : PyObject_CallOneArg(dispatch_post, op);
        Py_DECREF(own);
        return res;
    }
    else {
        Py_DECREF(own);
    }
    PyObject *res = PyObject_CallMethodOneArg(dispatch_q, str_append, op);
    if (res == NULL)
        return NULL;
    PyObject *active = SLOT(dispatcher, d_active);
    if (active == NULL || !PyLong_CheckExact(active) || PyLong_AsLong(active) == 0) {
        Py_DECREF(res);
        res = PyObject_CallOneArg(add_worker, Py_True);
    }
    return res;
}
