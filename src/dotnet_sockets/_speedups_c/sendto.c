/* ---- BeginSendTo ------------------------------------------------------- */

static PyObject *
fast_begin_send_to(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    /* BeginSendTo(buffer, offset, size, socket_flags, remote_ep[, callback[, state]]) */
    if (nargs < 5 || nargs > 7 || !is_socket(self))
        return NULL;
    PyObject *buffer = args[0], *ep = args[4];
    PyObject *callback = nargs > 5 ? args[5] : Py_None, *state = nargs > 6 ? args[6] : Py_None;
    if (SLOT(self, s_disposed) != Py_False || SLOT(self, s_dgram) != Py_True || SLOT(self, s_right_ep) == NULL ||
        SLOT(self, s_right_ep) == Py_None)
        return NULL;
    int is_bytes = PyBytes_CheckExact(buffer);
    if (!is_bytes && !PyByteArray_CheckExact(buffer))
        return NULL;
    if (!PyLong_CheckExact(args[1]) || !PyLong_CheckExact(args[2]) || !flags_none(args[3]))
        return NULL;
    Py_ssize_t n = is_bytes ? PyBytes_GET_SIZE(buffer) : PyByteArray_GET_SIZE(buffer);
    Py_ssize_t offset = PyLong_AsSsize_t(args[1]), size = PyLong_AsSsize_t(args[2]);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return NULL;
    }
    /* A slice would need a memoryview kept with the operation: the Python path makes it. */
    if (offset != 0 || size != n)
        return NULL;
    if (!Py_IS_TYPE(ep, EndPointType) || (callback != Py_None && !PyCallable_Check(callback)))
        return NULL;
    /* (Suppressed flow is handled after the audit, where the twin captures the context.)
       Asked before anything borrowed is read: it is Python code. */
    if (tracing_enabled())
        return NULL;
    PyObject *io = SLOT(self, s_io);
    if (io == NULL || !Py_IS_TYPE(io, OpQueueType))
        return NULL;
    PyObject *addr = cached_sockaddr(self, ep);
    if (addr == NULL)
        return NULL;
    struct sockaddr_storage ss;
    socklen_t salen;
    if (!parse_sockaddr(addr, &ss, &salen))
        return NULL;

    /* From here on the call is ours: what Python's BeginSendTo does, in its order. */
    /* addr is borrowed from ep._sa/_sa_dual, and the audit hooks are Python code that may
       move the endpoint (ep.Port = ... drops that tuple): hold it, as the twin's local does. */
    Py_INCREF(addr);
    /* A bytearray is exported before the hooks run and for as long as the operation holds
       it (the twin's memoryview): resizing it while the send is pending raises BufferError
       in whoever resizes, and exactly size bytes go out. */
    PyObject *view = is_bytes ? Py_NewRef(buffer) : PyMemoryView_FromObject(buffer);
    if (view == NULL) {
        Py_DECREF(addr);
        return NULL;
    }
    PyObject *op = NULL;
    io = NULL;
    if (audit_send("dotnet_sockets.Socket.BeginSendTo", self, ep) < 0)
        goto fail;
    /* Everything the twin reads after its audit is read again here: a hook may have changed
       the socket (tracing on, a new OpQueue from an accept into it, ...).  The OpQueue is
       held from here on: a hook, a callback or a finalizer run below may give the socket
       another one, which frees this one if nothing holds it. */
    io = SLOT(self, s_io);
    if (io == NULL || !Py_IS_TYPE(io, OpQueueType) || tracing_enabled() || SLOT(self, s_dgram) != Py_True ||
        SLOT(self, s_right_ep) == NULL || SLOT(self, s_right_ep) == Py_None) {
        /* Not the steady state any more: the twin's general path, without its audit. */
        io = NULL;
        PyObject *callargs[9] = {self, view, args[3], addr, ep, callback, state, args[2], args[1]};
        PyObject *res = PyObject_Vectorcall(begin_send_to_general, callargs, 9, NULL);
        Py_DECREF(view);
        Py_DECREF(addr);
        return res;
    }
    Py_INCREF(io);
    PyObject *ctx = NULL;
    if (callback != Py_None) {
        /* AsyncOperation.__init__ runs after the audit: flow suppressed by then (by a hook)
           means capture_context() or an empty Context, as there. */
        if (flow_not_suppressed()) {
            ctx = PyContext_CopyCurrent();
        }
        else if (!PyErr_Occurred()) {
            PyObject *capture = PyDict_GetItemString(exec_ctx_dict, "capture_context");
            Py_XINCREF(capture);
            ctx = capture != NULL ? PyObject_CallNoArgs(capture) : NULL;
            if (ctx != NULL && !PyContext_CheckExact(ctx)) {
                int truth = PyObject_IsTrue(ctx);
                if (truth <= 0)
                    Py_SETREF(ctx, truth < 0 ? NULL : PyContext_New());
            }
            else if (ctx == NULL && capture == NULL && !PyErr_Occurred())
                PyErr_SetString(PyExc_SystemError, "execution_context.capture_context missing");
            Py_XDECREF(capture);
        }
        if (ctx == NULL)
            goto fail;
    }
    op = SendToOpType->tp_alloc(SendToOpType, 0);
    if (op == NULL) {
        Py_XDECREF(ctx);
        goto fail;
    }
    set_slot(op, o_io, io);
    set_slot(op, o_callback, callback);
    set_slot(op, o_state, state);
    set_slot_steal(op, o_ctx, ctx != NULL ? ctx : Py_NewRef(Py_None));
    set_slot(op, o_done, Py_False);
    set_slot(op, o_sync, Py_False);
    set_slot(op, o_ended, Py_False);
    set_slot(op, o_value, Py_None);
    set_slot(op, o_error, Py_None);
    set_slot(op, o_handle, Py_None);
    set_slot_steal(op, o_buf, view);                 /* our reference */
    set_slot_steal(op, o_addr, addr);                /* our reference */
    set_slot_steal(op, o_flags, PyLong_FromLong(0)); /* a small int: cannot fail */
    view = addr = NULL;

    PyObject *wq = SLOT(io, q_wq), *closed = SLOT(io, q_closed), *fdo = SLOT(io, q_fd);
    if (wq == NULL || closed != Py_False || fdo == NULL || queue_length(wq) != 0) {
        if (PyErr_Occurred())
            PyErr_Clear();
        goto enqueue;
    }
    /* The buffer's length is read now, not before the audit hooks ran.  The send reads
       through its own export of op.buf, as socket.sendto does. */
    PyObject *exc;
    Py_ssize_t r;
    {
        PyObject *buf = Py_NewRef(SLOT(op, o_buf));
        Py_buffer pb;
        if (PyObject_GetBuffer(buf, &pb, PyBUF_SIMPLE) < 0) {
            Py_DECREF(buf);
            goto fail;
        }
        r = send_datagram(self, io, pb.buf, pb.len, &ss, salen, SLOT(op, o_addr), &exc);
        PyBuffer_Release(&pb);
        Py_DECREF(buf);
    }
    if (r == SEND_RAISED)
        goto fail;
    if (r == SEND_WOULD_BLOCK)
        goto enqueue;
    if (r >= 0) {
        __atomic_add_fetch(&tel_bytes_sent, (long long)r, __ATOMIC_RELAXED);
        __atomic_add_fetch(&tel_datagrams_sent, 1, __ATOMIC_RELAXED);
        PyObject *v = PyLong_FromSsize_t(r);
        if (v == NULL)
            goto fail;
        set_slot_steal(op, o_value, v);
    }
    else {
        set_slot_steal(op, o_error, exc);
    }
    /* Completed inside Begin (ops._complete_send): nobody can wait on a result not returned
       yet, so no handle to set; the data (a bytearray's export) is let go. */
    set_slot(op, o_buf, Py_None);
    set_slot(op, o_sync, Py_True);
    set_slot(op, o_done, Py_True);
    if (callback != Py_None) {
        PyObject *res;
        if (SLOT(io, q_inline) == Py_True) {
            res = run_inline_c(NULL, op);
        }
        else {
            res = post_completion(op);
        }
        if (res == NULL)
            goto fail;
        Py_DECREF(res);
    }
    Py_DECREF(io);
    return op;

enqueue:;
    PyObject *res = PyObject_CallMethodOneArg(io, str_enqueue_write, op);
    if (res == NULL)
        goto fail;
    Py_DECREF(res);
    Py_DECREF(io);
    return op;

fail:
    Py_XDECREF(op);
    Py_XDECREF(io);
    Py_XDECREF(view);
    Py_XDECREF(addr);
    return NULL;
}

/* ---- EndSendTo ---------------------------------------------------------- */

static PyObject *
fast_end_send_to(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1 || !is_socket(self))
        return NULL;
    PyObject *ar = args[0];
    /* Python code first (the logger), the reads after it. */
    if (tracing_enabled())
        return NULL;
    if (!Py_IS_TYPE(ar, SendToOpType) || SLOT(ar, o_done) != Py_True || SLOT(ar, o_ended) != Py_False ||
        SLOT(ar, o_error) != Py_None || SLOT(ar, o_io) != SLOT(self, s_io) || SLOT(ar, o_value) == NULL)
        return NULL;
    set_slot(ar, o_ended, Py_True);
    return Py_NewRef(SLOT(ar, o_value));
}

/* ---- synchronous SendTo(buffer, remote_ep) ------------------------------- */

/* The twin of SocketTransfer._send_to_steady, for SendTo(buffer, remote_ep) with bytes and
   SendTo(buffer, offset, size, socket_flags, remote_ep) with bytes or a bytearray, their
   arguments as _checks.steady_range takes them (exact ints in range, no_flags). */
static PyObject *
fast_send_to(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if ((nargs != 2 && nargs != 5) || !is_socket(self))
        return NULL;
    PyObject *buffer = args[0], *ep = args[nargs - 1];
    Py_ssize_t offset = 0, size;
    if (nargs == 2) {
        if (!PyBytes_CheckExact(buffer))
            return NULL;
        size = PyBytes_GET_SIZE(buffer);
    }
    else {
        Py_ssize_t n = plain_buffer_len(buffer, 0);
        if (n < 0)
            return NULL;
        if (!PyLong_CheckExact(args[1]) || !PyLong_CheckExact(args[2]) || !flags_none(args[3]))
            return NULL;
        offset = PyLong_AsSsize_t(args[1]);
        size = PyLong_AsSsize_t(args[2]);
        if (PyErr_Occurred()) {
            PyErr_Clear();
            return NULL;
        }
        if (offset < 0 || size < 0 || size > n - offset)
            return NULL;
    }
    if (!Py_IS_TYPE(ep, EndPointType) || SLOT(self, s_disposed) != Py_False || SLOT(self, s_dgram) != Py_True)
        return NULL;
    /* Python code (the logger) before anything borrowed is read. */
    if (tracing_enabled())
        return NULL;
    PyObject *io = SLOT(self, s_io);
    if (io == NULL || !Py_IS_TYPE(io, OpQueueType))
        return NULL;
    PyObject *wq = SLOT(io, q_wq), *fdo = SLOT(io, q_fd);
    if (wq == NULL || fdo == NULL || SLOT(io, q_closed) != Py_False || queue_length(wq) != 0) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *addr = cached_sockaddr(self, ep);
    if (addr == NULL)
        return NULL;
    struct sockaddr_storage ss;
    socklen_t salen;
    if (!parse_sockaddr(addr, &ss, &salen))
        return NULL;
    /* addr is borrowed from ep._sa, and the audit hooks may move ep (dropping that tuple):
       hold it, as the twin's local does (it is the "socket.sendto" event's argument). */
    Py_INCREF(addr);
    /* A bytearray is exported before the hooks run, as the twin's memoryview is: a hook
       that resizes it gets BufferError, and the bytes sent are those checked. */
    Py_buffer view;
    int exported = 0;
    const char *data;
    if (PyBytes_CheckExact(buffer)) {
        data = PyBytes_AS_STRING(buffer) + offset;
    }
    else {
        if (PyObject_GetBuffer(buffer, &view, PyBUF_SIMPLE) < 0) {
            Py_DECREF(addr);
            return NULL;
        }
        exported = 1;
        data = (const char *)view.buf + offset;
    }
    if (audit_send("dotnet_sockets.Socket.SendTo", self, ep) < 0) {
        if (exported)
            PyBuffer_Release(&view);
        Py_DECREF(addr);
        return NULL;
    }
    /* The twin reads self._sock after its audit: the socket's OpQueue of that moment, held
       (a hook that gave the socket a new one freed the one read above). */
    io = SLOT(self, s_io);
    if (io == NULL || !Py_IS_TYPE(io, OpQueueType)) {
        if (exported)
            PyBuffer_Release(&view);
        Py_DECREF(addr);
        PyErr_SetString(PyExc_SystemError, "Socket._io is not an OpQueue");
        return NULL;
    }
    Py_INCREF(io);
    PyObject *exc;
    Py_ssize_t r = send_datagram_gil(self, io, data, size, &ss, salen, addr, &exc, 1);
    if (exported)
        PyBuffer_Release(&view);
    Py_DECREF(io);
    Py_DECREF(addr);
    if (r == SEND_RAISED)
        return NULL;
    if (r == SEND_WOULD_BLOCK) {
        /* As the twin: the datagram waits for room as a queued operation, audited already. */
        PyObject *o = PyLong_FromSsize_t(offset), *z = PyLong_FromSsize_t(size);
        PyObject *res = NULL;
        if (o != NULL && z != NULL) {
            PyObject *callargs[6] = {self, buffer, o, z, nargs == 5 ? args[3] : ea_no_flags, ep};
            res = PyObject_Vectorcall(send_to_wait, callargs, 6, NULL);
        }
        Py_XDECREF(o);
        Py_XDECREF(z);
        return res;
    }
    if (r == SEND_FAILED) {
        PyObject *res = PyObject_CallFunctionObjArgs(sync_failed, self, exc, NULL);
        if (res == NULL)
            chain_raised(exc); /* the twin's "raise ... from None" inside "except OSError as exc" */
        Py_DECREF(exc);
        Py_XDECREF(res);
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_SystemError, "sync_failed returned");
        return NULL;
    }
    __atomic_add_fetch(&tel_bytes_sent, (long long)r, __ATOMIC_RELAXED);
    __atomic_add_fetch(&tel_datagrams_sent, 1, __ATOMIC_RELAXED);
    PyObject *right = SLOT(self, s_right_ep);
    if (right == NULL || right == Py_None)
        set_slot(self, s_right_ep, ep);
    return PyLong_FromSsize_t(r);
}
