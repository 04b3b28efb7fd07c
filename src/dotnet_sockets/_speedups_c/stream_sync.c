/* ---- synchronous stream Send / Receive, and NetworkStream Write / Read ---- */

/* The twins of SocketTransfer._send_steady and _receive_steady on a connected stream socket,
   for arguments as _checks.steady_range takes them (the callers check those).  They return
   NULL with no error set, having done nothing visible, for anything else: a datagram socket,
   a socket whose peer is not known yet (_peer asks the kernel), tracing, a queued or closed
   direction; the Python method then runs. */

#define NOT_TAKEN ((PyObject *)NULL)

/* A new memoryview of buffer[offset:offset + size] (the twins' memoryview(buffer)[...]). */
static PyObject *
range_view(PyObject *buffer, Py_ssize_t offset, Py_ssize_t size)
{
    PyObject *whole = PyMemoryView_FromObject(buffer);
    PyObject *range = whole == NULL ? NULL : PySequence_GetSlice(whole, offset, offset + size);
    Py_XDECREF(whole);
    return range;
}

/* The steady state every fast call starts from: an open socket of its kind (dgram: Py_True or
   Py_False), tracing off, and its OpQueue open with nothing queued in the call's direction
   (queue_slot: q_rq or q_wq), so that the call may be made now without passing anything queued.
   The queue (borrowed), or NULL with no error set: the Python function takes the call. */
static PyObject *
idle_queue(PyObject *self, PyObject *dgram, Py_ssize_t queue_slot)
{
    if (!is_socket(self) || SLOT(self, s_disposed) != Py_False || SLOT(self, s_dgram) != dgram)
        return NULL;
    /* Python code (the logger) before anything borrowed is read. */
    if (tracing_enabled())
        return NULL;
    PyObject *io = SLOT(self, s_io);
    if (io == NULL || !Py_IS_TYPE(io, OpQueueType))
        return NULL;
    PyObject *q = SLOT(io, queue_slot);
    if (q == NULL || SLOT(io, q_closed) != Py_False || SLOT(io, q_fd) == NULL || queue_length(q) != 0) {
        PyErr_Clear();
        return NULL;
    }
    return io;
}

/* The steady state a stream call starts from; the peer the audit event names (borrowed), or NULL. */
static PyObject *
stream_steady(PyObject *self, Py_ssize_t queue_slot)
{
    if (idle_queue(self, Py_False, queue_slot) == NULL)
        return NULL;
    PyObject *ep = SLOT(self, s_remote_ep);
    return ep == Py_None ? NULL : ep;
}

/* The socket's OpQueue after the audit hooks ran (a new reference): a hook may have closed the
   socket or given it another queue.  NULL with an error when it is not an OpQueue any more. */
static PyObject *
queue_after_hooks(PyObject *self)
{
    PyObject *io = SLOT(self, s_io);
    if (io == NULL || !Py_IS_TYPE(io, OpQueueType)) {
        PyErr_SetString(PyExc_SystemError, "Socket._io is not an OpQueue");
        return NULL;
    }
    return Py_NewRef(io);
}

/* The descriptor of an open queue, or -1 (the twin's closed socket.socket fails with EBADF). */
static int
queue_fd(PyObject *io)
{
    PyObject *fdo = SLOT(io, q_fd);
    if (SLOT(io, q_closed) != Py_False || fdo == NULL || !PyLong_CheckExact(fdo))
        return -1;
    return (int)PyLong_AsLong(fdo);
}

/* raise self._failed(_SocketOpError(exc)) from None, inside the twin's "except OSError as exc". */
static PyObject *
stream_failed(PyObject *self, PyObject *exc)
{
    PyObject *res = PyObject_CallFunctionObjArgs(sync_failed, self, exc, NULL);
    if (res == NULL)
        chain_raised(exc);
    Py_DECREF(exc);
    Py_XDECREF(res);
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_SystemError, "sync_failed returned");
    return NULL;
}

#define IO_WOULD_BLOCK (-3)
#define IO_RAISED (-2)
#define IO_FAILED (-1)

/* One send or receive on the socket, EINTR retried after the signal handlers ran; a receive
   reports the sender in *from (*fromlen: its length, 0 when the kernel named none) when from is
   not NULL, as recvfrom_into does.  Returns the count, or IO_WOULD_BLOCK, IO_RAISED (an
   exception is set), IO_FAILED (*exc: the OSError).  release: the GIL let go as the socket
   module does (the synchronous calls); else it is kept and the call made with MSG_DONTWAIT,
   which cannot wait whatever the descriptor's mode (the Begin... calls: see STREAM_KEEP_GIL). */
static Py_ssize_t
socket_call(PyObject *io, char *buf, Py_ssize_t len, int sending, PyObject **exc, int release,
            struct sockaddr_storage *from, socklen_t *fromlen)
{
    *exc = NULL;
    for (;;) {
        int fd = queue_fd(io), err;
        Py_ssize_t r = -1;
        if (from != NULL) {
            memset(from, 0, sizeof(*from));
            *fromlen = sizeof(*from);
        }
        if (fd < 0) {
            err = EBADF;
        }
        else {
            int flags = release ? 0 : MSG_DONTWAIT;
            PyThreadState *ts = release ? PyEval_SaveThread() : NULL;
            r = sending ? syscall(SYS_sendto, fd, buf, (size_t)len, flags, NULL, 0)
                        : syscall(SYS_recvfrom, fd, buf, (size_t)len, flags, (struct sockaddr *)from, fromlen);
            err = errno;
            if (ts != NULL)
                PyEval_RestoreThread(ts);
            if (r >= 0)
                return r;
            if (err == EINTR) {
                if (PyErr_CheckSignals() < 0)
                    return IO_RAISED;
                continue;
            }
            if (err == EAGAIN || err == EWOULDBLOCK)
                return IO_WOULD_BLOCK;
        }
        *exc = oserror_from_errno(err);
        return *exc != NULL ? IO_FAILED : IO_RAISED;
    }
}

/* A stream's send or receive (socket_call without the sender's address). */
static Py_ssize_t
stream_call(PyObject *io, char *buf, Py_ssize_t len, int sending, PyObject **exc, int release)
{
    return socket_call(io, buf, len, sending, exc, release, NULL, NULL);
}

/* _receive_steady(buffer, offset, size, flags) into a bytearray. */
static PyObject *
stream_receive(PyObject *self, PyObject *buffer, Py_ssize_t offset, Py_ssize_t size)
{
    if (size == 0)
        return NOT_TAKEN; /* 0 bytes waits for data: the twin's general path (ReceiveZeroOp) */
    PyObject *ep = stream_steady(self, q_rq);
    if (ep == NULL)
        return NOT_TAKEN;
    /* Exported before the audit hooks run, as the twin's memoryview: a hook that resizes the
       buffer gets BufferError, and the range checked is the range filled. */
    Py_buffer view;
    if (PyObject_GetBuffer(buffer, &view, PyBUF_WRITABLE) < 0)
        return NULL;
    Py_INCREF(ep);
    int denied = audit_send("dotnet_sockets.Socket.Receive", self, ep);
    Py_DECREF(ep);
    PyObject *io = denied < 0 ? NULL : queue_after_hooks(self);
    if (io == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    PyObject *rq = SLOT(io, q_rq), *exc = NULL;
    Py_ssize_t r = IO_WOULD_BLOCK;
    if (rq != NULL && SLOT(io, q_closed) == Py_False && queue_length(rq) == 0)
        r = stream_call(io, (char *)view.buf + offset, size, 0, &exc, 1);
    else
        PyErr_Clear(); /* (queue_length's) */
    Py_DECREF(io);
    if (r >= 0) {
        PyBuffer_Release(&view);
        __atomic_add_fetch(&tel_bytes_received, (long long)r, __ATOMIC_RELAXED);
        return PyLong_FromSsize_t(r);
    }
    if (r == IO_WOULD_BLOCK) {
        /* As the twin: it waits as a queued operation holding its own export of the range. */
        PyObject *range = range_view(buffer, offset, size);
        PyBuffer_Release(&view);
        if (range == NULL)
            return NULL;
        PyObject *callargs[2] = {self, range};
        PyObject *res = PyObject_Vectorcall(receive_wait, callargs, 2, NULL);
        Py_DECREF(range);
        return res;
    }
    PyBuffer_Release(&view);
    if (r == IO_FAILED)
        return stream_failed(self, exc);
    return NULL;
}

/* _send_steady(buffer, offset, size, flags) from bytes or a bytearray: every byte handed to the
   kernel, a would-block's rest queued (_send_rest), as the twin. */
static PyObject *
stream_send(PyObject *self, PyObject *buffer, Py_ssize_t offset, Py_ssize_t size, PyObject *flags)
{
    PyObject *ep = stream_steady(self, q_wq);
    if (ep == NULL)
        return NOT_TAKEN;
    Py_buffer view;
    if (PyObject_GetBuffer(buffer, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Py_INCREF(ep);
    int denied = audit_send("dotnet_sockets.Socket.Send", self, ep);
    Py_DECREF(ep);
    PyObject *io = denied < 0 ? NULL : queue_after_hooks(self);
    if (io == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    PyObject *wq = SLOT(io, q_wq), *exc = NULL;
    Py_ssize_t n = 0, r = IO_WOULD_BLOCK;
    if (wq != NULL && SLOT(io, q_closed) == Py_False && queue_length(wq) == 0) {
        do {
            r = stream_call(io, (char *)view.buf + offset + n, size - n, 1, &exc, 1);
            if (r >= 0)
                n += r;
        } while (r >= 0 && n < size);
    }
    else {
        PyErr_Clear(); /* (queue_length's) */
    }
    Py_DECREF(io);
    PyBuffer_Release(&view);
    if (r == IO_RAISED)
        return NULL; /* (a signal handler's exception: the twin counts nothing then) */
    __atomic_add_fetch(&tel_bytes_sent, (long long)n, __ATOMIC_RELAXED);
    if (r >= 0)
        return PyLong_FromSsize_t(n);
    if (r == IO_FAILED)
        return stream_failed(self, exc);
    PyObject *blocking = SLOT(self, s_blocking);
    int nonblocking = blocking != NULL && !PyObject_IsTrue(blocking);
    if (n != 0 && nonblocking)
        return PyLong_FromSsize_t(n); /* a non-blocking stream send reports what it handed over */
    PyObject *o = PyLong_FromSsize_t(offset), *z = PyLong_FromSsize_t(size), *k = PyLong_FromSsize_t(n);
    PyObject *res = NULL;
    if (o != NULL && z != NULL && k != NULL) {
        PyObject *callargs[6] = {self, buffer, o, z, flags, k};
        res = PyObject_Vectorcall(send_rest, callargs, 6, NULL);
    }
    Py_XDECREF(o);
    Py_XDECREF(z);
    Py_XDECREF(k);
    return res;
}

/* The (buffer, offset, size[, flags]) of a steady call: 1 when taken, 0 when not (no error set). */
static int
steady_args(PyObject *const *args, Py_ssize_t nargs, int writable, Py_ssize_t *offset, Py_ssize_t *size)
{
    Py_ssize_t n = plain_buffer_len(args[0], writable);
    if (n < 0)
        return 0;
    if (nargs == 1) {
        *offset = 0;
        *size = n;
        return 1;
    }
    if (!PyLong_CheckExact(args[1]) || !PyLong_CheckExact(args[2]) || (nargs == 4 && !flags_none(args[3])))
        return 0;
    *offset = PyLong_AsSsize_t(args[1]);
    *size = PyLong_AsSsize_t(args[2]);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return *offset >= 0 && *size >= 0 && *size <= n - *offset;
}

/* Socket.Send(buffer) and Send(buffer, offset, size, socket_flags). */
static PyObject *
fast_send(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t offset, size;
    if ((nargs != 1 && nargs != 4) || !steady_args(args, nargs, 0, &offset, &size))
        return NOT_TAKEN;
    return stream_send(self, args[0], offset, size, nargs == 4 ? args[3] : ea_no_flags);
}

/* Socket.Receive(buffer) and Receive(buffer, offset, size, socket_flags). */
static PyObject *
fast_receive(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t offset, size;
    if ((nargs != 1 && nargs != 4) || !steady_args(args, nargs, 1, &offset, &size))
        return NOT_TAKEN;
    return stream_receive(self, args[0], offset, size);
}

/* The stream's socket (a new reference) when its access flag, read from the instance, is
   True (it is False once the stream is closed); NULL, no error set, otherwise. */
static PyObject *
stream_socket(PyObject *stream, PyObject *access)
{
    if (!PyObject_TypeCheck(stream, NetworkStreamType))
        return NULL;
    PyObject *can = PyObject_GetAttr(stream, access);
    if (can != Py_True) {
        Py_XDECREF(can);
        PyErr_Clear();
        return NULL;
    }
    Py_DECREF(can);
    PyObject *sock = PyObject_GetAttr(stream, str_nsock);
    if (sock == NULL)
        PyErr_Clear();
    return sock;
}

/* NetworkStream's "raise _wrap(exc, template) from None" for the socket's errors it wraps. */
static PyObject *
stream_wrap(PyObject *template)
{
    if (!PyErr_ExceptionMatches(ns_wrapped))
        return NULL;
    PyObject *exc = fetch_exception();
    if (exc == NULL)
        return NULL;
    PyObject *wrapped = PyObject_CallFunctionObjArgs(ns_wrap, exc, template, NULL);
    if (wrapped != NULL) {
        PyException_SetContext(wrapped, Py_NewRef(exc));
        PyException_SetCause(wrapped, NULL); /* "from None": no cause, the context suppressed */
        PyErr_SetObject((PyObject *)Py_TYPE(wrapped), wrapped);
        Py_DECREF(wrapped);
    }
    else {
        chain_raised(exc);
    }
    Py_DECREF(exc);
    return NULL;
}

/* NetworkStream.Read(buffer, offset, count) into a bytearray. */
static PyObject *
fast_stream_read(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t offset, size;
    if (nargs != 3 || !steady_args(args, nargs, 1, &offset, &size))
        return NOT_TAKEN;
    PyObject *sock = stream_socket(self, str_readable);
    if (sock == NULL)
        return NOT_TAKEN;
    PyObject *r = stream_receive(sock, args[0], offset, size);
    Py_DECREF(sock);
    if (r == NULL && PyErr_Occurred())
        return stream_wrap(ns_read_failure);
    return r;
}

/* NetworkStream.Write(buffer, offset, count) from bytes or a bytearray. */
static PyObject *
fast_stream_write(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t offset, size;
    if (nargs != 3 || !steady_args(args, nargs, 0, &offset, &size))
        return NOT_TAKEN;
    PyObject *sock = stream_socket(self, str_writeable);
    if (sock == NULL)
        return NOT_TAKEN;
    PyObject *r = stream_send(sock, args[0], offset, size, ea_no_flags);
    Py_DECREF(sock);
    if (r == NULL)
        return PyErr_Occurred() ? stream_wrap(ns_write_failure) : NOT_TAKEN;
    Py_DECREF(r);
    Py_RETURN_NONE;
}

/* An AsyncOperation's core (see "the operation core" below). */
typedef struct {
    PyObject_HEAD
    PyObject *io, *callback, *state, *ctx, *done, *sync, *ended, *value, *error, *handle;
    PyObject *weakreflist;
} OpCore;
static PyTypeObject OpCoreType;

/* item._ctx.run(item._callback, item); what it raises is reported, never lost, and the
   caller goes on (the Python loops' "except BaseException: report_exception(exc)"). */
static void
run_callback(PyObject *item)
{
    PyObject *ctx, *cb;
    if (PyObject_TypeCheck(item, &OpCoreType) && ((OpCore *)item)->ctx != NULL && ((OpCore *)item)->callback != NULL) {
        ctx = Py_NewRef(((OpCore *)item)->ctx);
        cb = Py_NewRef(((OpCore *)item)->callback);
    }
    else {
        ctx = PyObject_GetAttr(item, str_ctx);
        cb = ctx != NULL ? PyObject_GetAttr(item, str_callback) : NULL;
    }
    PyObject *r = NULL;
    if (cb != NULL) {
        if (PyContext_CheckExact(ctx)) {
            if (PyContext_Enter(ctx) == 0) {
                r = PyObject_CallOneArg(cb, item);
                if (PyContext_Exit(ctx) < 0)
                    Py_CLEAR(r);
            }
        }
        else {
            r = PyObject_CallMethodObjArgs(ctx, str_run, cb, item, NULL);
        }
    }
    Py_XDECREF(ctx);
    Py_XDECREF(cb);
    if (r != NULL) {
        Py_DECREF(r);
        return;
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    if (value == NULL)
        return;
    PyObject *rr = PyObject_CallOneArg(report_exception, value);
    Py_DECREF(value);
    if (rr == NULL)
        PyErr_Clear();
    Py_XDECREF(rr);
}
