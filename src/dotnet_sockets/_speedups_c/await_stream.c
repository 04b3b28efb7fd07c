/* ---- awaited SendAsync / ReceiveAsync of one whole buffer (aio.short_io's twin) ---- */

/* "await sock.SendAsync(buffer[, no flags])" and "await sock.ReceiveAsync(buffer[, no flags])" on
   a connected stream socket: the call takes the buffer as _async_methods._short_call does (its
   own hold, _checks.plain_view), and the awaitable (a SendNow, first step short_first_step) makes
   short_io's first try when first awaited.  Everything short_io does past that try (a wait, a
   partial send, a failure) and every other state (a datagram socket, tracing, a queued or closed
   direction, a peer not known yet) is handed to aio's Python functions, which it then drives. */

#define AIO_RECEIVE 0 /* aio.RECEIVE (configure checks both) */
#define AIO_SEND 1    /* aio.SEND */

static PyObject *aio_short_io;      /* aio.short_io(sock, view, kind, remote_ep): all of it */
static PyObject *aio_short_general; /* aio._short_general(sock, view, kind, remote_ep, unaudited) */
static PyObject *aio_short_wait;    /* aio.short_wait(sock, io, view, kind, n, remote_ep): past the first try */
static PyObject *aio_short_failed;  /* aio.short_failed(sock, err): raises what End... raises */
static Py_ssize_t q_rkeep;          /* OpQueue.rkeep: the loop's kept reader (aio._LoopWatch), or None */
static PyObject *str_dry;

/* _checks.plain_view's twin: the call's own hold on buffer (a new reference) when the general
   checks could only accept it; NULL with no error set when they must see it. */
static PyObject *
plain_view_c(PyObject *buffer, int writable)
{
    if (PyByteArray_CheckExact(buffer))
        return PyMemoryView_FromObject(buffer);
    if (Py_IS_TYPE(buffer, &PyMemoryView_Type)) {
        PyMemoryViewObject *mv = (PyMemoryViewObject *)buffer;
        /* A released view: its attributes raise ValueError, which plain_view takes for "no". */
        if ((mv->flags & _Py_MEMORYVIEW_RELEASED) || (mv->mbuf->flags & _Py_MANAGED_BUFFER_RELEASED))
            return NULL;
        Py_buffer *v = &mv->view;
        if (v->ndim != 1 || v->format == NULL || strcmp(v->format, "B") != 0 ||
            !(mv->flags & (_Py_MEMORYVIEW_SCALAR | _Py_MEMORYVIEW_C)) || (writable && v->readonly))
            return NULL;
        return PyMemoryView_FromObject(buffer);
    }
    if (!writable && PyBytes_CheckExact(buffer))
        return Py_NewRef(buffer);
    return NULL;
}

/* _speedups.plain_view(buffer, writable): for the tests that pin it to _checks.plain_view. */
static PyObject *
plain_view_py(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "plain_view(buffer, writable)");
        return NULL;
    }
    int writable = PyObject_IsTrue(args[1]);
    if (writable < 0)
        return NULL;
    PyObject *v = plain_view_c(args[0], writable);
    if (v == NULL && !PyErr_Occurred())
        Py_RETURN_NONE;
    return v;
}

/* Drive the Python coroutine that takes over (a new reference, or NULL with an error). */
static PySendResult
short_hand_over(SendNow *s, PyObject *inner, PyObject **result)
{
    if (inner == NULL || s->state != 0) {
        /* (state != 0: cleared meanwhile, by the GC) */
        Py_XDECREF(inner);
        s->state = 2;
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "cannot reuse already awaited coroutine");
        return PYGEN_ERROR;
    }
    Py_XSETREF(s->inner, inner);
    s->state = 1;
    return PyIter_Send(inner, Py_None, result);
}

/* keep.dry = value, as short_io sets it (its errors are raised). */
static int
short_set_dry(PyObject *keep, PyObject *value)
{
    return keep == Py_None ? 0 : PyObject_SetAttr(keep, str_dry, value);
}

static PySendResult
short_first_step(SendNow *s, PyObject **result)
{
    PyObject *sock = Py_NewRef(s->sock), *view = Py_NewRef(s->buffer), *io = NULL, *keep = NULL, *exc = NULL;
    PyObject *kind = PyLong_FromLong(s->kind), *inner;
    int write = s->kind == AIO_SEND;
    PySendResult ret = PYGEN_ERROR;
    *result = NULL;
    if (kind == NULL)
        goto failed;
    /* short_io's prologue; tracing first (it may run Python code), then what it reads. */
    if (SLOT(sock, s_dgram) != Py_False || tracing_enabled())
        goto whole;
    io = SLOT(sock, s_io);
    if (io == NULL || !Py_IS_TYPE(io, OpQueueType)) {
        io = NULL;
        goto whole;
    }
    Py_INCREF(io);
    PyObject *q = SLOT(io, write ? q_wq : q_rq), *ep = SLOT(sock, s_remote_ep);
    if (q == NULL || SLOT(io, q_closed) != Py_False || queue_length(q) != 0 || ep == NULL || ep == Py_None) {
        PyErr_Clear(); /* (queue_length's) */
        goto whole;
    }
    Py_INCREF(ep);
    int denied = audit_send(write ? "dotnet_sockets.Socket.SendAsync" : "dotnet_sockets.Socket.ReceiveAsync", sock, ep);
    Py_DECREF(ep);
    if (denied < 0)
        goto failed;
    q = SLOT(io, write ? q_wq : q_rq);
    if (q == NULL || SLOT(io, q_closed) != Py_False || queue_length(q) != 0) {
        /* An audit hook queued an operation or closed the socket: it starts on the queue. */
        PyErr_Clear();
        PyObject *callargs[5] = {sock, view, kind, Py_None, Py_False};
        Py_CLEAR(s->buffer);
        inner = PyObject_Vectorcall(aio_short_general, callargs, 5, NULL);
        goto hand_over;
    }
    Py_ssize_t n = -1, r = IO_WOULD_BLOCK;
    Py_buffer b;
    if (write) {
        if (PyObject_GetBuffer(view, &b, PyBUF_SIMPLE) < 0)
            goto failed;
        r = stream_call(io, b.buf, b.len, 1, &exc, 1);
        Py_ssize_t len = b.len;
        PyBuffer_Release(&b);
        if (r == len) {
            __atomic_add_fetch(&tel_bytes_sent, (long long)r, __ATOMIC_RELAXED);
            goto value;
        }
        if (r >= 0)
            n = r;
    }
    else {
        /* short_io asks the kept reader's poll first when the last receive here found nothing
           (keep.dry), because a would-block costs the interpreter an exception; here it costs
           what the poll costs, so the receive is always tried: the same outcome, and keep.dry
           left as short_io leaves it. */
        keep = Py_NewRef(SLOT(io, q_rkeep) != NULL ? SLOT(io, q_rkeep) : Py_None);
        if (PyObject_GetBuffer(view, &b, PyBUF_WRITABLE) < 0)
            goto failed;
        r = stream_call(io, b.buf, b.len, 0, &exc, 1);
        PyBuffer_Release(&b);
        if (r >= 0) {
            if (short_set_dry(keep, Py_False) < 0)
                goto failed;
            __atomic_add_fetch(&tel_bytes_received, (long long)r, __ATOMIC_RELAXED);
            goto value;
        }
        if (r == IO_WOULD_BLOCK && short_set_dry(keep, Py_True) < 0)
            goto failed;
    }
    if (r == IO_RAISED)
        goto failed;
    if (r == IO_FAILED) {
        PyObject *res = PyObject_CallFunctionObjArgs(aio_short_failed, sock, exc, NULL);
        Py_XDECREF(res);
        if (res != NULL)
            PyErr_SetString(PyExc_SystemError, "short_failed returned");
        goto failed;
    }
    {
        /* Past the first try: the operation waits (or a stream send goes on after its prefix). */
        PyObject *no = PyLong_FromSsize_t(n);
        if (no == NULL)
            goto failed;
        PyObject *callargs[6] = {sock, io, view, kind, no, Py_None};
        Py_CLEAR(s->buffer);
        inner = PyObject_Vectorcall(aio_short_wait, callargs, 6, NULL);
        Py_DECREF(no);
        goto hand_over;
    }
whole:
    {
        /* Not the steady state: short_io does all of it (nothing visible was done here). */
        PyObject *callargs[4] = {sock, view, kind, Py_None};
        Py_CLEAR(s->buffer);
        inner = PyObject_Vectorcall(aio_short_io, callargs, 4, NULL);
    }
hand_over:
    Py_CLEAR(view); /* the coroutine holds the call's export from here, as short_io's "del view" */
    ret = short_hand_over(s, inner, result);
    goto done;
value:
    s->state = 2;
    Py_CLEAR(s->buffer); /* the export ends with the await, as the coroutine's frame ends */
    *result = PyLong_FromSsize_t(r);
    ret = *result != NULL ? PYGEN_RETURN : PYGEN_ERROR;
    goto done;
failed:
    s->state = 2;
    Py_CLEAR(s->buffer);
done:
    Py_XDECREF(exc);
    Py_XDECREF(keep);
    Py_XDECREF(io);
    Py_XDECREF(kind);
    Py_XDECREF(view);
    Py_DECREF(sock);
    return ret;
}

/* _async_methods._short_call for SendAsync (kind AIO_SEND) and ReceiveAsync (AIO_RECEIVE):
   (buffer[, no flags]) by position on an open socket; anything else (a token, flags by name, an
   event args object, another buffer) is NOT_TAKEN, and the Python method does all of it. */
static PyObject *
short_call_c(PyObject *self, PyObject *const *args, Py_ssize_t nargs, int kind)
{
    if ((nargs != 1 && nargs != 2) || !is_socket(self) || SLOT(self, s_disposed) != Py_False ||
        (nargs == 2 && args[1] != ea_no_flags && !flags_none(args[1])))
        return NOT_TAKEN;
    PyObject *view = plain_view_c(args[0], kind == AIO_RECEIVE);
    if (view == NULL)
        return NOT_TAKEN; /* (or memoryview()'s error, raised from the call as _short_call's) */
    if (kind == AIO_RECEIVE && PyMemoryView_GET_BUFFER(view)->len == 0) {
        Py_DECREF(view);
        return NOT_TAKEN; /* 0 bytes waits for data: the general path (ReceiveZeroOp), as _short_call */
    }
    SendNow *s = PyObject_GC_New(SendNow, &SendNowType);
    if (s == NULL) {
        Py_DECREF(view);
        return NULL;
    }
    s->sock = Py_NewRef(self);
    s->buffer = view; /* our reference */
    s->addr = Py_NewRef(Py_None);
    s->ep = Py_NewRef(Py_None);
    s->inner = NULL;
    s->state = 0;
    s->running = 0;
    s->kind = kind;
    s->first = short_first_step;
    PyObject_GC_Track((PyObject *)s);
    return (PyObject *)s;
}

static PyObject *
fast_send_async(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return short_call_c(self, args, nargs, AIO_SEND);
}

static PyObject *
fast_receive_async(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return short_call_c(self, args, nargs, AIO_RECEIVE);
}
