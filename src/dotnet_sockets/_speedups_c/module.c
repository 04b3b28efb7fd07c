/* method(kind, fallback): the accelerated method named ``kind``, falling back on ``fallback`` (the
   Python function, which also gives it its name, signature and docstring). */
static const struct {
    const char *kind;
    fastfunc f;
} fast_kinds[] = {
    {"BeginSendTo", fast_begin_send_to},
    {"EndSendTo", fast_end_send_to},
    {"SendTo", fast_sync_send_to},
    {"SendToAsync", fast_send_to_async},
    {"Send", fast_sync_send},
    {"Receive", fast_sync_receive},
    {"BeginSend", fast_begin_send},
    {"EndSend", fast_end_send},
    {"BeginReceive", fast_begin_receive},
    {"EndReceive", fast_end_receive},
    {"BeginReceiveFrom", fast_begin_receive_from},
    {"EndReceiveFrom", fast_end_receive_from},
    {"ReceiveFrom", fast_receive_from},
    {"Read", fast_stream_read},
    {"Write", fast_stream_write},
    {"SendAsync", fast_send_async},
    {"ReceiveAsync", fast_receive_async},
    {"ready", fast_watch_ready},
    {"Close", fast_close},
    {"Dispose", fast_dispose},
    {"__del__", fast_del},
    {"enqueue", fast_q_enqueue},
    {"on_ready", fast_q_on_ready},
    {"_serve", fast_engine_serve},
    {"accept_attempt", fast_accept_attempt},
    {"connect_attempt", fast_connect_attempt},
    {"Connect", fast_connect},
    {"EndAccept", fast_end_accept},
    {"__init__", fast_q_init},
};

static PyObject *
make_method(PyObject *module, PyObject *args)
{
    const char *kind;
    PyObject *fallback;
    if (!PyArg_ParseTuple(args, "sO:method", &kind, &fallback))
        return NULL;
    for (size_t i = 0; i < sizeof(fast_kinds) / sizeof(fast_kinds[0]); i++) {
        if (strcmp(kind, fast_kinds[i].kind) != 0)
            continue;
        return fast_method_new(fast_kinds[i].f, fallback);
    }
    PyErr_Format(PyExc_ValueError, "no accelerated %s", kind);
    return NULL;
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_O, "configure(dict): the classes and helpers the fast paths use."},
    {"method", make_method, METH_VARARGS, "method(kind, fallback): an accelerated method descriptor."},
    {"run_inline", run_inline_c, METH_O, "Run op's callback on this thread, after those already queued here."},
    {"drain", (PyCFunction)(void (*)(void))drain, METH_FASTCALL,
     "drain(dispatcher, own, in_a_row): run up to dispatch._PASS completions (Dispatcher._run's inner loop)."},
    {"op_core", (PyCFunction)(void (*)(void))op_core, METH_FASTCALL,
     "op_core(post, report_exception, ArgumentException, ABORTED, execution_context): AsyncOperation's compiled core."},
    {"configure_dispose", (PyCFunction)(void (*)(void))configure_dispose, METH_FASTCALL,
     "configure_dispose(Dispose, unlink_file, collecting_globals): what the compiled Close() and Dispose() use."},
    {"configure_connections", (PyCFunction)(void (*)(void))configure_connections, METH_FASTCALL,
     "configure_connections(AcceptOp, ConnectOp, tls, sample, waiters, thread_waiter, wait): what the compiled accept and connect attempts and Connect use."},
    {"configure_queue_init", configure_queue_init, METH_O,
     "configure_queue_init(opqueue_globals): what the compiled OpQueue.__init__ reads."},
    {"set_suppressing", set_suppressing, METH_O, "The number of threads that suppress ExecutionContext flow."},
    {"counts", counts, METH_NOARGS, "(bytes_sent, datagrams_sent, bytes_received, datagrams_received) of the calls made here."},
    {"recv_batch", (PyCFunction)(void (*)(void))recv_batch, METH_FASTCALL, recv_batch_doc},
    {"send_batch", (PyCFunction)(void (*)(void))send_batch, METH_FASTCALL, send_batch_doc},
    {"batch_calls", batch_call_count, METH_NOARGS, "The recvmmsg/sendmmsg calls recv_batch and send_batch made."},
    {"configure_queue", configure_queue, METH_O, "configure_queue(dict): what OpQueue's fast paths call and read."},
    {"configure_sync", configure_sync, METH_O, "configure_sync(dict): what the synchronous ReceiveFrom reads and calls."},
    {"plain_view", (PyCFunction)(void (*)(void))plain_view_py, METH_FASTCALL,
     "plain_view(buffer, writable): _checks.plain_view's compiled twin (the awaited SendAsync/ReceiveAsync)."},
    {NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "dotnet_sockets._speedups", "Optional accelerator of dotnet_sockets' send path.", -1,
    methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (PyType_Ready(&FastMethodType) < 0 || PyType_Ready(&SendNowType) < 0 || PyType_Ready(&OpCoreType) < 0)
        return NULL;
    str_complete = PyUnicode_InternFromString("_complete");
    str_set_even = PyUnicode_InternFromString("_set_even_if_disposed");
    str_inline = PyUnicode_InternFromString("inline");
    str_capture = PyUnicode_InternFromString("capture_context");
    str_callback_param = PyUnicode_InternFromString("callback");
    msg_not_callable = PyUnicode_InternFromString("The callback must be callable.");
    if (!str_complete || !str_set_even || !str_inline || !str_capture || !str_callback_param || !msg_not_callable)
        return NULL;
    str_cache = PyUnicode_InternFromString("_cache");
    str_ctx = PyUnicode_InternFromString("_ctx");
    str_throw = PyUnicode_InternFromString("throw");
    str_callback = PyUnicode_InternFromString("_callback");
    str_enqueue_write = PyUnicode_InternFromString("enqueue_write");
    str_run = PyUnicode_InternFromString("run");
    kw_remote_ep = Py_BuildValue("(s)", "remote_ep");
    str_enqueue = PyUnicode_InternFromString("enqueue");
    str_start_write = PyUnicode_InternFromString("start_write");
    int_zero = PyLong_FromLong(0);
    str_check_receive_ep = PyUnicode_InternFromString("_check_receive_ep");
    str_endpoint_from = PyUnicode_InternFromString("_endpoint_from");
    str_remote_ep_param = PyUnicode_InternFromString("remoteEP");
    if (!str_cache || !str_throw || !str_ctx || !str_callback || !str_enqueue_write || !str_run ||
        !kw_remote_ep || !str_enqueue || !str_start_write || !int_zero || !str_check_receive_ep ||
        !str_endpoint_from || !str_remote_ep_param)
        return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    /* _accel.py uses the module only when this matches what it was written for (its _INTERFACE). */
    if (m != NULL && (PyModule_AddIntConstant(m, "INTERFACE", 15) < 0 ||
                      PyModule_AddObjectRef(m, "SendToAsyncAwaitable", (PyObject *)&SendNowType) < 0))
        Py_CLEAR(m);
    return m;
}
