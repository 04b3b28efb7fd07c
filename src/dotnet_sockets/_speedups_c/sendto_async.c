/* ---- SendToAsync: the reused-args datagram send and the awaited one ------- */

static PyTypeObject *EventArgsType;
static Py_ssize_t ea_remote_ep, ea_operating, ea_flags, ea_list_items, ea_seg, ea_last_op, ea_socket, ea_error, ea_bytes;
static PyObject *ea_send_to_op;       /* SocketAsyncOperation.SendTo */
static PyObject *ea_success;          /* SocketError.Success */
static PyObject *ea_no_flags;         /* SocketFlags.None_ */
static PyObject *ea_send_to_failed;   /* eventargs.send_to_failed(sock, e, exc) */
static PyObject *ea_send_to_queued;   /* eventargs.send_to_queued(sock, e, addr, ep) */
static PyObject *send_to_now;         /* aio._send_to_now(sock, buffer, addr, ep): the coroutine */
static PyObject *send_to_queued;      /* aio._send_to_queued(...): its part after the first try */

/* The socket's OpQueue (a new reference) when it is a datagram socket with its implicit
   bind done and nothing queued to send, so that a send may be tried at once; NULL when not.
   A new reference: the caller runs Python code (audit hooks) before it is done with it,
   and a hook may give the socket another OpQueue, which frees this one if nothing holds it. */
static PyObject *
can_send_now(PyObject *sock)
{
    PyObject *io = SLOT(sock, s_io);
    if (io == NULL || !Py_IS_TYPE(io, OpQueueType) || SLOT(sock, s_dgram) != Py_True)
        return NULL;
    PyObject *right = SLOT(sock, s_right_ep), *wq = SLOT(io, q_wq), *fdo = SLOT(io, q_fd);
    if (right == NULL || right == Py_None || wq == NULL || fdo == NULL || SLOT(io, q_closed) != Py_False)
        return NULL;
    Py_INCREF(io);
    Py_ssize_t qn = queue_length(wq);
    if (qn != 0) {
        PyErr_Clear();
        Py_DECREF(io);
        return NULL;
    }
    return io;
}

/* e._flags no flags (flags_none) and e._list_items None: the reused-args steady state. */
static int
event_plain(PyObject *e)
{
    PyObject *flags = SLOT(e, ea_flags);
    return flags != NULL && flags_none(flags) && SLOT(e, ea_list_items) == Py_None;
}

static PyObject *send_to_event_audited(PyObject *self, PyObject *e, PyObject *ep, PyObject *addr,
                                       struct sockaddr_storage *ss, socklen_t salen);

static PyObject *
fast_send_to_event(PyObject *self, PyObject *e)
{
    if (!Py_IS_TYPE(e, EventArgsType) || SLOT(self, s_disposed) != Py_False)
        return NULL;
    PyObject *ep = SLOT(e, ea_remote_ep), *operating = SLOT(e, ea_operating);
    if (ep == NULL || !Py_IS_TYPE(ep, EndPointType) || operating == NULL || !PyLong_CheckExact(operating) ||
        PyLong_AsLong(operating) != 0 || !event_plain(e)) {
        PyErr_Clear();
        return NULL;
    }
    /* Only asked (the OpQueue to send on is read after the audit), and asked first: it may
       run Python code (a queue's __len__), after which nothing borrowed before is trusted. */
    PyObject *io = can_send_now(self);
    if (io == NULL)
        return NULL;
    Py_DECREF(io);
    ep = SLOT(e, ea_remote_ep);
    if (ep == NULL || !Py_IS_TYPE(ep, EndPointType))
        return NULL;
    PyObject *addr = cached_sockaddr(self, ep);
    if (addr == NULL)
        return NULL;
    struct sockaddr_storage ss;
    socklen_t salen;
    if (!parse_sockaddr(addr, &ss, &salen) || SLOT(e, ea_seg) == NULL)
        return NULL;
    /* ep and addr are borrowed from e and from ep, and the audit hooks are Python code that
       may change both (e.RemoteEndPoint = ..., ep.Port = ...): hold them, as the twin's
       locals do.  Everything else the twin reads after the audit is read after it here. */
    Py_INCREF(ep);
    Py_INCREF(addr);
    PyObject *res = NULL;
    if (audit_send("dotnet_sockets.Socket.SendToAsync", self, ep) == 0)
        res = send_to_event_audited(self, e, ep, addr, &ss, salen);
    Py_DECREF(ep);
    Py_DECREF(addr);
    return res;
}

/* eventargs.send_to_async after its audit event, in its order. */
static PyObject *
send_to_event_audited(PyObject *self, PyObject *e, PyObject *ep, PyObject *addr, struct sockaddr_storage *ss,
                      socklen_t salen)
{
    /* if e._operating: e._throw_for_status(e._operating)  (a hook may have started one) */
    PyObject *operating = SLOT(e, ea_operating);
    if (operating == NULL || !PyLong_CheckExact(operating) || PyLong_AsLong(operating) != 0) {
        PyErr_Clear();
        operating = PyObject_GetAttrString(e, "_operating");
        if (operating == NULL)
            return NULL;
        int busy = PyObject_IsTrue(operating);
        PyObject *r = busy > 0 ? PyObject_CallMethod(e, "_throw_for_status", "O", operating) : NULL;
        Py_DECREF(operating);
        if (busy < 0 || (busy > 0 && r == NULL))
            return NULL;
        Py_XDECREF(r);
    }
    PyObject *io = can_send_now(self);
    if (io == NULL || !event_plain(e)) {
        Py_XDECREF(io);
        if (PyErr_Occurred())
            return NULL;
        return PyObject_CallFunctionObjArgs(ea_send_to_queued, self, e, addr, ep, NULL);
    }
    PyObject *seg = SLOT(e, ea_seg); /* read after the audit, as the twin reads it */
    if (seg == NULL) {
        Py_DECREF(io);
        return PyObject_GetAttrString(e, "_seg"); /* its AttributeError */
    }
    Py_INCREF(seg);
    /* (set_slot drops the old values: a finalizer may run there, hence io and seg held.) */
    set_slot(e, ea_last_op, ea_send_to_op);
    set_slot(e, ea_socket, self);
    PyObject *exc;
    Py_ssize_t r;
    if (seg == Py_None) {
        r = send_datagram(self, io, "", 0, ss, salen, addr, &exc);
    }
    else {
        /* The export stops a bytearray from being resized while hooks or signal handlers run. */
        Py_buffer view;
        if (PyObject_GetBuffer(seg, &view, PyBUF_SIMPLE) < 0) {
            Py_DECREF(seg);
            Py_DECREF(io);
            return NULL;
        }
        r = send_datagram(self, io, view.buf, view.len, ss, salen, addr, &exc);
        PyBuffer_Release(&view);
    }
    Py_DECREF(seg);
    Py_DECREF(io);
    if (r == SEND_RAISED)
        return NULL;
    if (r == SEND_WOULD_BLOCK)
        return PyObject_CallFunctionObjArgs(ea_send_to_queued, self, e, addr, ep, NULL);
    if (r == SEND_FAILED) {
        PyObject *res = PyObject_CallFunctionObjArgs(ea_send_to_failed, self, e, exc, NULL);
        Py_DECREF(exc);
        return res;
    }
    __atomic_add_fetch(&tel_bytes_sent, (long long)r, __ATOMIC_RELAXED);
    __atomic_add_fetch(&tel_datagrams_sent, 1, __ATOMIC_RELAXED);
    PyObject *nb = PyLong_FromSsize_t(r);
    if (nb == NULL)
        return NULL;
    set_slot(e, ea_error, ea_success);
    set_slot_steal(e, ea_bytes, nb);
    set_slot(e, ea_flags, ea_no_flags);
    Py_RETURN_FALSE;
}

/* The awaitable of "await sock.SendToAsync(buffer, flags, ep)": like the coroutine of the
   Python path, it sends when first awaited (not when made), with the checks of that moment;
   anything but an immediate send is handed to that coroutine, which it then drives. */
typedef struct SendNow SendNow;
struct SendNow {
    PyObject_HEAD
    PyObject *sock, *buffer, *addr, *ep;
    PyObject *inner; /* the Python coroutine once handed over */
    int state;       /* 0 not started, 1 delegating, 2 finished */
    int running;     /* inside its first step (audit hooks run there): not to be re-entered */
    int kind;        /* what first() does (the awaited SendAsync/ReceiveAsync: aio's RECEIVE or SEND) */
    PySendResult (*first)(SendNow *s, PyObject **result); /* the first step, on the first send(None) */
};

static PyTypeObject SendNowType;

static int
sendnow_traverse(PyObject *o, visitproc visit, void *arg)
{
    SendNow *s = (SendNow *)o;
    Py_VISIT(s->sock);
    Py_VISIT(s->buffer);
    Py_VISIT(s->addr);
    Py_VISIT(s->ep);
    Py_VISIT(s->inner);
    return 0;
}

static int
sendnow_clear(PyObject *o)
{
    SendNow *s = (SendNow *)o;
    /* Finished once cleared: send/throw/close in state 1 would use the NULL inner coroutine
       (the GC clears a cycle's members one by one, and deallocations may run code meanwhile). */
    s->state = 2;
    Py_CLEAR(s->sock);
    Py_CLEAR(s->buffer);
    Py_CLEAR(s->addr);
    Py_CLEAR(s->ep);
    Py_CLEAR(s->inner);
    return 0;
}

static void
sendnow_dealloc(PyObject *o)
{
    PyObject_GC_UnTrack(o);
    sendnow_clear(o);
    PyObject_GC_Del(o);
}

/* What the coroutine raises when it is resumed while it runs (an audit hook calling
   .send(None), .throw() or .close() on it): one datagram per await. */
static int
sendnow_refuse_reentry(SendNow *s)
{
    if (!s->running)
        return 0;
    PyErr_SetString(PyExc_ValueError, "coroutine already executing");
    return -1;
}

/* Finished (returned or raised): let go of everything, as a finished coroutine lets go of its
   frame, so that a done Task holding its awaitable (3.12+ keeps it) keeps no socket or buffer alive.
   Marked finished first: what the releases run cannot use a half-cleared object. */
static void
sendnow_finish(SendNow *s)
{
    s->state = 2;
    Py_CLEAR(s->inner);
    Py_CLEAR(s->buffer);
    Py_CLEAR(s->addr);
    Py_CLEAR(s->ep);
    Py_CLEAR(s->sock);
}

static PySendResult sendnow_first_step(SendNow *s, PyObject **result);

static PySendResult
sendnow_am_send(PyObject *o, PyObject *arg, PyObject **result)
{
    SendNow *s = (SendNow *)o;
    if (sendnow_refuse_reentry(s) < 0) {
        *result = NULL;
        return PYGEN_ERROR;
    }
    if (s->state == 1) {
        /* Held for the call: code it runs may clear this object (and so drop the coroutine). */
        PyObject *inner = Py_NewRef(s->inner);
        PySendResult r = PyIter_Send(inner, arg, result);
        Py_DECREF(inner);
        if (r != PYGEN_NEXT)
            sendnow_finish(s);
        return r;
    }
    if (s->state == 2) {
        PyErr_SetString(PyExc_RuntimeError, "cannot reuse already awaited coroutine");
        *result = NULL;
        return PYGEN_ERROR;
    }
    if (arg != Py_None) {
        PyErr_SetString(PyExc_TypeError, "can't send non-None value to a just-started coroutine");
        *result = NULL;
        return PYGEN_ERROR;
    }
    /* The fields are held for the step: hooks run inside it, and nothing they do to this
       object (a tp_clear of a cycle it is in) may free what the step still uses. */
    Py_INCREF(o);
    s->running = 1;
    PySendResult r = s->first(s, result);
    s->running = 0;
    if (r != PYGEN_NEXT)
        sendnow_finish(s);
    Py_DECREF(o);
    return r;
}

static PySendResult
sendnow_first_step(SendNow *s, PyObject **result)
{
    PyObject *sock = Py_NewRef(s->sock), *buffer = Py_NewRef(s->buffer), *addr = Py_NewRef(s->addr),
             *ep = Py_NewRef(s->ep);
    PySendResult ret = PYGEN_ERROR;
    *result = NULL;
    struct sockaddr_storage ss;
    socklen_t salen;
    PyObject *io = NULL, *inner;
    /* Tracing first (it may run Python code), as _send_to_now asks it: traced, the send takes the
       operation's path there. */
    if (!tracing_enabled() && PyBytes_CheckExact(buffer) && parse_sockaddr(addr, &ss, &salen) &&
        (io = can_send_now(sock)) != NULL) {
        PyObject *exc;
        Py_ssize_t r = send_datagram(sock, io, PyBytes_AS_STRING(buffer), PyBytes_GET_SIZE(buffer), &ss, salen, addr,
                                     &exc);
        Py_CLEAR(io);
        if (r == SEND_RAISED) {
            s->state = 2;
            goto done;
        }
        if (r >= 0) {
            __atomic_add_fetch(&tel_bytes_sent, (long long)r, __ATOMIC_RELAXED);
            __atomic_add_fetch(&tel_datagrams_sent, 1, __ATOMIC_RELAXED);
            s->state = 2;
            *result = PyLong_FromSsize_t(r);
            ret = *result != NULL ? PYGEN_RETURN : PYGEN_ERROR;
            goto done;
        }
        if (r == SEND_FAILED) {
            s->state = 2;
            PyObject *res = PyObject_CallFunctionObjArgs(sendto_failed, sock, exc, NULL);
            if (res == NULL)
                chain_raised(exc); /* as _send_to_now's "raise ... from None" in its except clause */
            Py_DECREF(exc);
            Py_XDECREF(res);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_SystemError, "sendto_failed returned");
            goto done;
        }
        /* SEND_WOULD_BLOCK: on to the queued send, as _send_to_now goes on after its try. */
        inner = PyObject_CallFunctionObjArgs(send_to_queued, sock, buffer, addr, ep, NULL);
    }
    else {
        if (PyErr_Occurred())
            PyErr_Clear();
        /* Not the steady state: the Python coroutine does all of it. */
        inner = PyObject_CallFunctionObjArgs(send_to_now, sock, buffer, addr, ep, NULL);
    }
    if (inner == NULL || s->state != 0) {
        /* (state != 0: cleared meanwhile, by the GC) */
        Py_XDECREF(inner);
        s->state = 2;
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "cannot reuse already awaited coroutine");
        goto done;
    }
    Py_XSETREF(s->inner, inner);
    s->state = 1;
    ret = PyIter_Send(inner, Py_None, result);
done:
    Py_DECREF(sock);
    Py_DECREF(buffer);
    Py_DECREF(addr);
    Py_DECREF(ep);
    return ret;
}

static PyObject *
sendnow_result(PySendResult r, PyObject *value)
{
    if (r == PYGEN_NEXT)
        return value;
    if (r == PYGEN_RETURN) {
        /* StopIteration(value), built so that a tuple value stays one argument. */
        PyObject *stop = PyObject_CallOneArg(PyExc_StopIteration, value);
        Py_DECREF(value);
        if (stop != NULL) {
            PyErr_SetObject(PyExc_StopIteration, stop);
            Py_DECREF(stop);
        }
    }
    return NULL;
}

static PyObject *
sendnow_send(PyObject *o, PyObject *arg)
{
    PyObject *value;
    PySendResult r = sendnow_am_send(o, arg, &value);
    return sendnow_result(r, value);
}

static PyObject *
sendnow_iternext(PyObject *o)
{
    PyObject *value;
    PySendResult r = sendnow_am_send(o, Py_None, &value);
    if (r == PYGEN_RETURN && value == Py_None) {
        Py_DECREF(value);
        return NULL; /* plain StopIteration-less end, as tp_iternext allows */
    }
    return sendnow_result(r, value);
}

static PyObject *
sendnow_throw(PyObject *o, PyObject *const *args, Py_ssize_t nargs)
{
    SendNow *s = (SendNow *)o;
    if (sendnow_refuse_reentry(s) < 0)
        return NULL;
    if (s->state == 1) {
        PyObject *inner = Py_NewRef(s->inner); /* held for the call, as in sendnow_am_send */
        PyObject *callargs[4] = {inner, NULL, NULL, NULL};
        Py_ssize_t i;
        for (i = 0; i < nargs && i < 3; i++)
            callargs[i + 1] = args[i];
        PyObject *r = PyObject_VectorcallMethod(str_throw, callargs, (size_t)(i + 1), NULL);
        Py_DECREF(inner);
        if (r == NULL)
            sendnow_finish(s); /* it raised (StopIteration included): finished */
        return r;
    }
    sendnow_finish(s); /* let go of the buffer (an export), as a closed coroutine's frame does */
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "throw expected at least 1 argument");
        return NULL;
    }
    PyObject *typ = args[0];
    if (PyExceptionInstance_Check(typ))
        PyErr_SetObject((PyObject *)Py_TYPE(typ), typ);
    else if (PyExceptionClass_Check(typ))
        PyErr_SetObject(typ, nargs > 1 ? args[1] : NULL);
    else
        PyErr_SetString(PyExc_TypeError, "exceptions must be classes or instances deriving from BaseException");
    return NULL;
}

static PyObject *
sendnow_close(PyObject *o, PyObject *unused)
{
    SendNow *s = (SendNow *)o;
    if (sendnow_refuse_reentry(s) < 0)
        return NULL;
    PyObject *inner = s->state == 1 ? Py_XNewRef(s->inner) : NULL;
    sendnow_finish(s); /* as in sendnow_throw */
    if (inner != NULL) {
        PyObject *r = PyObject_CallMethod(inner, "close", NULL);
        Py_DECREF(inner);
        return r;
    }
    Py_RETURN_NONE;
}

static PyObject *
sendnow_await(PyObject *o)
{
    return Py_NewRef(o);
}

static PyMethodDef sendnow_methods[] = {
    {"send", sendnow_send, METH_O, NULL},
    {"throw", (PyCFunction)(void (*)(void))sendnow_throw, METH_FASTCALL, NULL},
    {"close", sendnow_close, METH_NOARGS, NULL},
    {NULL},
};

static PyAsyncMethods sendnow_async = {
    .am_await = sendnow_await,
    .am_send = sendnow_am_send,
};

static PyTypeObject SendNowType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dotnet_sockets._speedups.SendToAsyncAwaitable",
    .tp_basicsize = sizeof(SendNow),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "What await sock.SendToAsync(buffer, flags, ep) awaits: sends when first awaited.",
    .tp_as_async = &sendnow_async,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = sendnow_iternext,
    .tp_methods = sendnow_methods,
    .tp_traverse = sendnow_traverse,
    .tp_clear = sendnow_clear,
    .tp_dealloc = sendnow_dealloc,
};

static PyObject *
fast_send_to_async(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!is_socket(self))
        return NULL;
    if (nargs == 1)
        return fast_send_to_event(self, args[0]);
    /* await SendToAsync(buffer, socket_flags, remote_ep), flags none */
    if (nargs != 3)
        return NULL;
    PyObject *buffer = args[0], *flags = args[1], *ep = args[2];
    if (!PyBytes_CheckExact(buffer) || !flags_none(flags) || !Py_IS_TYPE(ep, EndPointType) ||
        SLOT(self, s_dgram) != Py_True || SLOT(self, s_disposed) != Py_False)
        return NULL;
    PyObject *addr = cached_sockaddr(self, ep);
    if (addr == NULL)
        return NULL;
    /* addr is borrowed from ep._sa/_sa_dual, and the audit hooks may move ep (ep.Port = ...
       drops that tuple): take the reference before they run, as the twin's local holds it. */
    Py_INCREF(addr);
    if (audit_send("dotnet_sockets.Socket.SendToAsync", self, ep) < 0) {
        Py_DECREF(addr);
        return NULL;
    }
    SendNow *s = PyObject_GC_New(SendNow, &SendNowType);
    if (s == NULL) {
        Py_DECREF(addr);
        return NULL;
    }
    s->sock = Py_NewRef(self);
    s->buffer = Py_NewRef(buffer);
    s->addr = addr; /* our reference */
    s->ep = Py_NewRef(ep);
    s->inner = NULL;
    s->state = 0;
    s->running = 0;
    s->kind = 0;
    s->first = sendnow_first_step;
    PyObject_GC_Track((PyObject *)s);
    return (PyObject *)s;
}
