/* ---- BeginSend / EndSend, BeginReceive / EndReceive on a connected stream ---- */

/* The twins of SocketTransfer.BeginSend, EndSend, BeginReceive and EndReceive in their steady
   state: (buffer, offset, size, socket_flags, callback[, state]) as _checks.steady_range takes
   them (a bytearray, or bytes for a send), callback None or callable, on a connected stream
   socket (its peer known: _peer would ask the kernel) with nothing queued in that direction,
   tracing off.  Anything else is NOT_TAKEN, nothing done, and the Python method runs: every
   rule keeps its one home there.  From the audit event on, the call is made in the twin's
   order: the audit, the operation (its callback's context captured), one system call unless
   the direction is queued or closed meanwhile, and what would block queued by the queue's
   own enqueue/start_write. */

static PyTypeObject *StreamSendOnlyOpType, *ReceiveOpType;
static Py_ssize_t ss_buf, ss_flags, ss_addr, ss_sent; /* StreamSendOnlyOp */
static Py_ssize_t ro_buf, ro_flags;                   /* ReceiveOp */
static PyObject *str_enqueue, *str_start_write, *int_zero;

/* A Begin... keeps the GIL through its non-blocking system call below this many bytes (a
   1 KiB send takes about a microsecond: giving the GIL up for it lets a waiting thread take
   it, and this one queues for it again, per operation); at and above, it lets it go, as the
   socket module does, so that the copy of a large block overlaps the other threads' work. */
#define STREAM_KEEP_GIL 8192

/* type(io, callback, state) for an operation class whose __init__ is the core's: the same
   setup, without the argument tuple; any other class is called. */
static PyObject *
new_operation(PyTypeObject *type, PyObject *io, PyObject *callback, PyObject *state)
{
    if (type->tp_init != (initproc)core_init || type->tp_new != PyType_GenericNew) {
        PyObject *args[3] = {io, callback, state};
        return PyObject_Vectorcall((PyObject *)type, args, 3, NULL);
    }
    PyObject *op = type->tp_alloc(type, 0);
    if (op != NULL && core_setup((OpCore *)op, io, callback, state) < 0)
        Py_CLEAR(op);
    return op;
}

/* The Begin... arguments of the steady state: 1 when taken (no error set either way). */
static int
begin_args(PyObject *const *args, Py_ssize_t nargs, int writable, Py_ssize_t *offset, Py_ssize_t *size)
{
    if (nargs != 5 && nargs != 6)
        return 0;
    PyObject *callback = args[4];
    return (callback == Py_None || PyCallable_Check(callback)) && steady_args(args, 4, writable, offset, size);
}

/* io.enqueue(op) for reading, io.enqueue(op, True) for writing. */
static int
enqueue_op(PyObject *io, PyObject *op, int write)
{
    PyObject *args[3] = {io, op, Py_True};
    PyObject *r = PyObject_VectorcallMethod(str_enqueue, args, write ? 3 : 2, NULL);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

/* BeginSend(buffer, offset, size, socket_flags, callback[, state]) from bytes or a bytearray. */
static PyObject *
fast_begin_send(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t offset, size;
    if (!begin_args(args, nargs, 0, &offset, &size))
        return NOT_TAKEN;
    PyObject *ep = stream_steady(self, q_wq);
    if (ep == NULL)
        return NOT_TAKEN;
    PyObject *buffer = args[0], *callback = args[4], *state = nargs == 6 ? args[5] : Py_None;
    /* Exported before the audit hooks run, as the twin's data: a hook that resizes the buffer
       gets BufferError, and the range checked is the range sent. */
    Py_buffer view;
    if (PyObject_GetBuffer(buffer, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Py_INCREF(ep);
    int denied = audit_send("dotnet_sockets.Socket.BeginSend", self, ep);
    Py_DECREF(ep);
    PyObject *io = denied < 0 ? NULL : queue_after_hooks(self);
    PyObject *op = io == NULL ? NULL : new_operation(StreamSendOnlyOpType, io, callback, state);
    if (op == NULL)
        goto fail;
    set_slot(op, ss_flags, int_zero);
    set_slot(op, ss_addr, Py_None);
    Py_ssize_t sent = 0;
    PyObject *wq = SLOT(io, q_wq);
    if (wq != NULL && SLOT(io, q_closed) == Py_False && queue_length(wq) == 0) {
        PyObject *exc = NULL;
        Py_ssize_t r = stream_call(io, (char *)view.buf + offset, size, 1, &exc, size >= STREAM_KEEP_GIL);
        if (r == IO_RAISED)
            goto fail;
        sent = r == IO_WOULD_BLOCK ? -1 : r == IO_FAILED ? 0 : r; /* (even a 0-byte send waits then) */
        if (exc != NULL)
            set_slot_steal(op, o_error, exc);
        if (sent == size || exc != NULL) {
            /* Done inside Begin: counted as the bytes leave, the caller's buffer let go before
               anyone is told, completed as the core completes. */
            __atomic_add_fetch(&tel_bytes_sent, (long long)sent, __ATOMIC_RELAXED);
            PyObject *v = PyLong_FromSsize_t(sent);
            if (v == NULL)
                goto fail;
            set_slot(op, ss_sent, v);
            set_slot_steal(op, o_value, v);
            set_slot(op, ss_buf, Py_None);
            PyBuffer_Release(&view);
            PyObject *res = core_complete((OpCore *)op, Py_True);
            Py_DECREF(io);
            if (res == NULL)
                Py_CLEAR(op);
            Py_XDECREF(res);
            return op;
        }
    }
    else {
        PyErr_Clear(); /* (queue_length's) */
    }
    /* What is left waits in order in the queue, holding its own export of the range (the
       twin's data: the buffer itself when it is all of a bytes object). */
    {
        PyObject *data;
        if (PyBytes_CheckExact(buffer) && size == PyBytes_GET_SIZE(buffer)) {
            data = Py_NewRef(buffer);
        }
        else if ((data = range_view(buffer, offset, size)) == NULL) {
            goto fail;
        }
        set_slot_steal(op, ss_buf, data);
    }
    PyBuffer_Release(&view);
    PyObject *res;
    if (sent > 0) {
        /* A partial send goes on from where it stopped. */
        __atomic_add_fetch(&tel_bytes_sent, (long long)sent, __ATOMIC_RELAXED);
        PyObject *v = PyLong_FromSsize_t(sent);
        if (v == NULL) {
            Py_DECREF(io);
            Py_DECREF(op);
            return NULL;
        }
        set_slot_steal(op, ss_sent, v);
        res = PyObject_CallMethodOneArg(io, str_start_write, op);
        Py_XDECREF(res);
    }
    else {
        set_slot(op, ss_sent, int_zero);
        res = enqueue_op(io, op, 1) < 0 ? NULL : Py_None;
    }
    Py_DECREF(io);
    if (res == NULL)
        Py_CLEAR(op);
    return op;

fail:
    PyBuffer_Release(&view);
    Py_XDECREF(io);
    Py_XDECREF(op);
    return NULL;
}

static PyObject *make_sockaddr(const struct sockaddr_storage *ss, socklen_t len);

/* _receive_now: op, its buf the range, receives at once unless the queue is busy or closed, and
   completes; what would block is queued.  sender: the value is (bytes, the sender's address),
   a datagram counted, as recvfrom_into's.  0, or -1 with an exception set. */
static int
receive_now(PyObject *io, PyObject *op, PyObject *range, Py_ssize_t size, int sender)
{
    PyObject *rq = SLOT(io, q_rq);
    if (rq == NULL || SLOT(io, q_closed) != Py_False || queue_length(rq) != 0) {
        PyErr_Clear(); /* (queue_length's) */
        return enqueue_op(io, op, 0);
    }
    /* Through an export of its own: the operation's view is not ours to rely on while Python
       code (a signal handler) runs. */
    Py_buffer pb;
    if (PyObject_GetBuffer(range, &pb, PyBUF_WRITABLE) < 0)
        return -1;
    struct sockaddr_storage from;
    socklen_t fromlen = 0;
    PyObject *exc = NULL;
    Py_ssize_t r = socket_call(io, pb.buf, size, 0, &exc, size >= STREAM_KEEP_GIL, sender ? &from : NULL,
                               sender ? &fromlen : NULL);
    PyBuffer_Release(&pb);
    if (r == IO_RAISED)
        return -1;
    if (r == IO_WOULD_BLOCK)
        return enqueue_op(io, op, 0);
    if (r >= 0) {
        PyObject *sa = sender ? make_sockaddr(&from, fromlen) : NULL;
        PyObject *v = !sender ? PyLong_FromSsize_t(r) : sa == NULL ? NULL : Py_BuildValue("(nN)", r, sa);
        if (v == NULL)
            return -1;
        set_slot_steal(op, o_value, v);
        __atomic_add_fetch(&tel_bytes_received, (long long)r, __ATOMIC_RELAXED);
        if (sender)
            __atomic_add_fetch(&tel_datagrams_received, 1, __ATOMIC_RELAXED);
    }
    else {
        set_slot_steal(op, o_error, exc);
    }
    PyObject *res = core_complete((OpCore *)op, Py_True);
    Py_XDECREF(res);
    return res == NULL ? -1 : 0;
}

/* BeginReceive(buffer, offset, size, socket_flags, callback[, state]) into a bytearray. */
static PyObject *
fast_begin_receive(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t offset, size;
    /* (0 bytes waits for data: ops.ReceiveZeroOp, built by the general path) */
    if (!begin_args(args, nargs, 1, &offset, &size) || size == 0)
        return NOT_TAKEN;
    PyObject *ep = stream_steady(self, q_rq);
    if (ep == NULL)
        return NOT_TAKEN;
    PyObject *callback = args[4], *state = nargs == 6 ? args[5] : Py_None;
    /* The twin's memoryview of the range, made before the audit hooks run; the operation holds
       it (EndReceive's trace reads it). */
    PyObject *range = range_view(args[0], offset, size);
    if (range == NULL)
        return NULL;
    Py_INCREF(ep);
    int denied = audit_send("dotnet_sockets.Socket.BeginReceive", self, ep);
    Py_DECREF(ep);
    PyObject *io = denied < 0 ? NULL : queue_after_hooks(self);
    PyObject *op = io == NULL ? NULL : new_operation(ReceiveOpType, io, callback, state);
    if (op != NULL) {
        set_slot(op, ro_flags, int_zero);
        set_slot(op, ro_buf, range);
        if (receive_now(io, op, range, size, 0) < 0)
            Py_CLEAR(op);
    }
    Py_XDECREF(io);
    Py_DECREF(range);
    return op;
}

/* EndSend / EndReceive of this socket's finished, unended, successful operation of that
   class, tracing off: _end's checks would all pass and its wait return at once. */
static PyObject *
end_steady(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyTypeObject *type)
{
    if (nargs != 1 || !Py_IS_TYPE(args[0], type) || !is_socket(self))
        return NOT_TAKEN;
    /* Python code (the logger) before the fields are read. */
    if (tracing_enabled())
        return NOT_TAKEN;
    OpCore *ar = (OpCore *)args[0];
    if (ar->done != Py_True || ar->ended != Py_False || ar->error != Py_None || ar->value == NULL ||
        ar->io != SLOT(self, s_io))
        return NOT_TAKEN;
    Py_SETREF(ar->ended, Py_NewRef(Py_True));
    return Py_NewRef(ar->value);
}

static PyObject *
fast_end_send(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return end_steady(self, args, nargs, StreamSendOnlyOpType);
}

static PyObject *
fast_end_receive(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return end_steady(self, args, nargs, ReceiveOpType);
}
