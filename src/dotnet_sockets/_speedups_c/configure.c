/* ---- module ------------------------------------------------------------ */

static int
take_type(PyObject *cfg, const char *key, PyTypeObject **out)
{
    PyObject *t = PyDict_GetItemString(cfg, key);
    if (t == NULL || !PyType_Check(t)) {
        PyErr_Format(PyExc_KeyError, "configure: %s must be a type", key);
        return -1;
    }
    Py_XSETREF(*out, (PyTypeObject *)Py_NewRef(t));
    return 0;
}

static int
take_obj(PyObject *cfg, const char *key, PyObject **out)
{
    PyObject *o = PyDict_GetItemString(cfg, key);
    if (o == NULL) {
        PyErr_Format(PyExc_KeyError, "configure: %s missing", key);
        return -1;
    }
    Py_XSETREF(*out, Py_NewRef(o));
    return 0;
}

#define OFF(var, type, name)                                                                                       \
    if ((var = slot_offset(type, name)) < 0)                                                                       \
        return NULL;

static PyObject *
configure(PyObject *module, PyObject *cfg)
{
    if (!PyDict_Check(cfg)) {
        PyErr_SetString(PyExc_TypeError, "configure(dict)");
        return NULL;
    }
    configured = 0;
    if (take_type(cfg, "SocketCore", &SocketCoreType) || take_type(cfg, "OpQueue", &OpQueueType) ||
        take_type(cfg, "IPEndPoint", &EndPointType) || take_type(cfg, "SendToOp", &SendToOpType) ||
        take_type(cfg, "Dispatcher", &DispatcherType) || take_obj(cfg, "dispatcher", &dispatcher) ||
        take_obj(cfg, "audit_failed", &audit_failed) || take_obj(cfg, "sendto_failed", &sendto_failed) ||
        take_obj(cfg, "sync_failed", &sync_failed) ||
        take_obj(cfg, "logger", &logger_cache_owner) ||
        take_obj(cfg, "DEBUG", &DEBUG_LEVEL))
        return NULL;
    if (exec_ctx_dict == NULL || report_exception == NULL) {
        PyErr_SetString(PyExc_TypeError, "configure() before op_core()");
        return NULL;
    }
    OFF(s_io, SocketCoreType, "_io");
    OFF(s_disposed, SocketCoreType, "_disposed");
    OFF(s_v6, SocketCoreType, "_v6");
    OFF(s_alen, SocketCoreType, "_alen");
    OFF(s_dgram, SocketCoreType, "_dgram");
    OFF(s_right_ep, SocketCoreType, "_right_ep");
    OFF(s_sock, SocketCoreType, "_sock");
    OFF(s_remote_ep, SocketCoreType, "_remote_ep");
    OFF(s_blocking, SocketCoreType, "_blocking");
    OFF(q_wq, OpQueueType, "wq");
    OFF(q_rq, OpQueueType, "rq");
    OFF(q_closed, OpQueueType, "closed");
    OFF(q_inline, OpQueueType, "inline");
    OFF(q_fd, OpQueueType, "fd");
    OFF(e_sa, EndPointType, "_sa");
    OFF(e_sa_dual, EndPointType, "_sa_dual");
    if (!PyType_IsSubtype(SendToOpType, &OpCoreType)) {
        PyErr_SetString(PyExc_TypeError, "configure: SendToOp must derive from the compiled operation core");
        return NULL;
    }
    o_io = offsetof(OpCore, io);
    o_callback = offsetof(OpCore, callback);
    o_state = offsetof(OpCore, state);
    o_ctx = offsetof(OpCore, ctx);
    o_done = offsetof(OpCore, done);
    o_sync = offsetof(OpCore, sync);
    o_ended = offsetof(OpCore, ended);
    o_value = offsetof(OpCore, value);
    o_error = offsetof(OpCore, error);
    o_handle = offsetof(OpCore, handle);
    OFF(o_buf, SendToOpType, "buf");
    OFF(o_addr, SendToOpType, "addr");
    OFF(o_flags, SendToOpType, "flags");
    if (take_type(cfg, "StreamSendOnlyOp", &StreamSendOnlyOpType) || take_type(cfg, "ReceiveOp", &ReceiveOpType))
        return NULL;
    if (!PyType_IsSubtype(StreamSendOnlyOpType, &OpCoreType) || !PyType_IsSubtype(ReceiveOpType, &OpCoreType)) {
        PyErr_SetString(PyExc_TypeError, "configure: the stream operations must derive from the compiled core");
        return NULL;
    }
    OFF(ss_buf, StreamSendOnlyOpType, "buf");
    OFF(ss_flags, StreamSendOnlyOpType, "flags");
    OFF(ss_addr, StreamSendOnlyOpType, "addr");
    OFF(ss_sent, StreamSendOnlyOpType, "sent");
    OFF(ro_buf, ReceiveOpType, "buf");
    OFF(ro_flags, ReceiveOpType, "flags");
    if (take_type(cfg, "ReceiveFromOp", &ReceiveFromOpType) ||
        take_type(cfg, "SocketReceiveFromResult", &ReceiveFromResultType))
        return NULL;
    if (!PyType_IsSubtype(ReceiveFromOpType, &OpCoreType)) {
        PyErr_SetString(PyExc_TypeError, "configure: ReceiveFromOp must derive from the compiled core");
        return NULL;
    }
    OFF(rf_buf, ReceiveFromOpType, "buf");
    OFF(rf_flags, ReceiveFromOpType, "flags");
    OFF(rf_extra, ReceiveFromOpType, "extra");
    if (take_type(cfg, "SocketAsyncEventArgs", &EventArgsType) || take_obj(cfg, "SEND_TO", &ea_send_to_op) ||
        take_obj(cfg, "SUCCESS", &ea_success) || take_obj(cfg, "NO_FLAGS", &ea_no_flags) ||
        take_obj(cfg, "send_to_failed", &ea_send_to_failed) || take_obj(cfg, "send_to_queued", &ea_send_to_queued) ||
        take_obj(cfg, "send_to_now", &send_to_now) || take_obj(cfg, "aio_send_to_queued", &send_to_queued) ||
        take_obj(cfg, "begin_send_to_general", &begin_send_to_general))
        return NULL;
    if (take_obj(cfg, "send_to_wait", &send_to_wait) || take_obj(cfg, "receive_wait", &receive_wait) ||
        take_obj(cfg, "send_rest", &send_rest) || take_type(cfg, "NetworkStream", &NetworkStreamType) ||
        take_obj(cfg, "stream_wrapped", &ns_wrapped) || take_obj(cfg, "stream_wrap", &ns_wrap) ||
        take_obj(cfg, "READ_FAILURE", &ns_read_failure) || take_obj(cfg, "WRITE_FAILURE", &ns_write_failure))
        return NULL;
    if ((str_readable == NULL && (str_readable = PyUnicode_InternFromString("_readable")) == NULL) ||
        (str_writeable == NULL && (str_writeable = PyUnicode_InternFromString("_writeable")) == NULL) ||
        (str_nsock == NULL && (str_nsock = PyUnicode_InternFromString("_sock")) == NULL))
        return NULL;
    OFF(ea_remote_ep, EventArgsType, "_remote_ep");
    OFF(ea_operating, EventArgsType, "_operating");
    OFF(ea_flags, EventArgsType, "_flags");
    OFF(ea_list_items, EventArgsType, "_list_items");
    OFF(ea_seg, EventArgsType, "_seg");
    OFF(ea_last_op, EventArgsType, "_last_op");
    OFF(ea_socket, EventArgsType, "_socket");
    OFF(ea_error, EventArgsType, "_error");
    OFF(ea_bytes, EventArgsType, "_bytes");
    OFF(d_active, DispatcherType, "_active");
    OFF(d_current, DispatcherType, "_current");
    OFF(d_q, DispatcherType, "_q");
    OFF(d_tls, DispatcherType, "_tls");
    PyObject *pass = PyDict_GetItemString(cfg, "drain_pass");
    if (pass == NULL || (drain_pass = PyLong_AsSsize_t(pass)) < 1) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_KeyError, "configure: drain_pass must be a positive int");
        return NULL;
    }
    PyObject *run_next = PyDict_GetItemString(cfg, "run_next");
    if (run_next == NULL || (run_next_limit = PyLong_AsSsize_t(run_next)) < 1) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_KeyError, "configure: run_next must be a positive int");
        return NULL;
    }
    if (!PyObject_TypeCheck(dispatcher, DispatcherType)) {
        PyErr_SetString(PyExc_TypeError, "dispatcher");
        return NULL;
    }
    PyObject *q = SLOT(dispatcher, d_q);
    if (q == NULL) {
        PyErr_SetString(PyExc_TypeError, "dispatcher._q unset");
        return NULL;
    }
    Py_XSETREF(dispatch_q, Py_NewRef(q));
    Py_XSETREF(DequeType, (PyTypeObject *)Py_NewRef(Py_TYPE(q)));
    Py_XSETREF(dispatch_popleft, PyObject_GetAttrString(q, "popleft"));
    Py_XSETREF(dispatch_post, PyObject_GetAttrString(dispatcher, "post"));
    Py_XSETREF(add_worker, PyObject_GetAttrString(dispatcher, "_add_worker"));
    if (str_run_next == NULL)
        str_run_next = PyUnicode_InternFromString("run_next");
    if (str_append == NULL)
        str_append = PyUnicode_InternFromString("append");
    Py_XSETREF(is_enabled_for, PyObject_GetAttrString(logger_cache_owner, "isEnabledFor"));
    Py_XSETREF(logger_cache, PyObject_GetAttr(logger_cache_owner, str_cache));
    if (logger_cache == NULL || !PyDict_CheckExact(logger_cache)) {
        PyErr_Clear();
        Py_CLEAR(logger_cache);
    }
    if (!dispatch_post || !add_worker || !str_run_next || !str_append || !dispatch_popleft || !is_enabled_for)
        return NULL;
    /* The awaited SendAsync / ReceiveAsync (aio.short_io's twin). */
    if (take_obj(cfg, "short_io", &aio_short_io) || take_obj(cfg, "short_general", &aio_short_general) ||
        take_obj(cfg, "short_wait", &aio_short_wait) || take_obj(cfg, "short_failed", &aio_short_failed))
        return NULL;
    OFF(q_rkeep, OpQueueType, "rkeep");
    PyObject *kr = PyDict_GetItemString(cfg, "RECEIVE"), *ks = PyDict_GetItemString(cfg, "SEND");
    if (kr == NULL || ks == NULL || PyLong_AsLong(kr) != AIO_RECEIVE || PyLong_AsLong(ks) != AIO_SEND) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_KeyError, "configure: RECEIVE and SEND must be aio's 0 and 1");
        return NULL;
    }
    if (str_dry == NULL && (str_dry = PyUnicode_InternFromString("dry")) == NULL)
        return NULL;
    /* The kept reader's report (aio._LoopWatch.ready's twin). */
    if (take_type(cfg, "LoopWatch", &LoopWatchType) || take_type(cfg, "LoopWaiter", &LoopWaiterType) ||
        take_obj(cfg, "InvalidStateError", &invalid_state_error))
        return NULL;
    OFF(lw_waiter, LoopWatchType, "waiter");
    OFF(lw_suspect, LoopWatchType, "suspect");
    OFF(lw_poll, LoopWatchType, "poll");
    OFF(lw_loop, LoopWatchType, "loop");
    OFF(lwt_fut, LoopWaiterType, "fut");
    if (str_set_result == NULL && (str_set_result = PyUnicode_InternFromString("set_result")) == NULL)
        return NULL;
    if (AFutureType == NULL) {
        PyObject *aio = PyImport_ImportModule("dotnet_sockets.aio");
        if (aio != NULL) {
            AFutureType = PyObject_GetAttrString(aio, "_Future");
            ATaskType = PyObject_GetAttrString(aio, "_Task");
            current_task_fn = PyObject_GetAttrString(aio, "_current_task");
            aio_step_now = PyObject_GetAttrString(aio, "_step_now");
        }
        Py_XDECREF(aio);
        if (AFutureType == NULL || ATaskType == NULL || current_task_fn == NULL || aio_step_now == NULL ||
            !PyType_Check(AFutureType)) {
            Py_CLEAR(AFutureType);
            Py_CLEAR(ATaskType);
            Py_CLEAR(current_task_fn);
            Py_CLEAR(aio_step_now);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "configure: aio._Future is not a type");
            return NULL;
        }
    }
    if ((str_callbacks == NULL && (str_callbacks = PyUnicode_InternFromString("_callbacks")) == NULL) ||
        (str_remove_done_callback == NULL &&
         (str_remove_done_callback = PyUnicode_InternFromString("remove_done_callback")) == NULL) ||
        (str_run == NULL && (str_run = PyUnicode_InternFromString("run")) == NULL) ||
        (str_self == NULL && (str_self = PyUnicode_InternFromString("__self__")) == NULL))
        return NULL;
    configured = 1;
    Py_RETURN_NONE;
}

static PyObject *
counts(PyObject *module, PyObject *unused)
{
    return Py_BuildValue("(LLLL)", __atomic_load_n(&tel_bytes_sent, __ATOMIC_RELAXED),
                         __atomic_load_n(&tel_datagrams_sent, __ATOMIC_RELAXED),
                         __atomic_load_n(&tel_bytes_received, __ATOMIC_RELAXED),
                         __atomic_load_n(&tel_datagrams_received, __ATOMIC_RELAXED));
}
