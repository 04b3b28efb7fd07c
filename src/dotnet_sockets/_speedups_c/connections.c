/* ---- the accept and connect attempts ----------------------------------------- */

/* ops.AcceptOp.attempt and ops.ConnectOp.attempt compiled: the one system call (and, for a
   connect under way, its SO_ERROR and getpeername) each makes on the listener's or the
   connecting socket's non-blocking descriptor, with the same results, telemetry counts, audit
   event ("socket.connect", as socket.connect_ex raises it; an accepted descriptor's
   "socket.__new__" comes with its C socket, made by calling _socket.socket as the Python
   method does) and exceptions.  What the Python method pays and this does not: an accept that
   finds nobody waiting raises and catches a BlockingIOError there; here it is errno EAGAIN; and
   the accepted descriptor is made non-blocking by accept4 itself, not by OpQueue's second call.

   Only the plain case is taken: an operation of exactly that class, on an OpQueue whose
   socket is exactly _socket.socket of family AF_INET or AF_INET6 with timeout 0 (what OpQueue
   makes every descriptor), and, for a connect's first call, a numeric (host, port[,
   flowinfo, scope_id]) address of that family.  Anything else returns NULL before anything
   is done, and the Python method runs.  Filled by configure_connections(), after
   configure(). */

/* The head of the socket module's PySocketSockObject (Modules/socketmodule.h, the same from
   3.8 to 3.13): the descriptor the socket has now (-1 once closed, as the socket module's own
   calls read it), its family, type and protocol, and its timeout (0: non-blocking).  Checked
   against a live socket by configure_connections() before any use; a mismatch leaves every
   attempt to Python. */
typedef struct {
    PyObject_HEAD
    int sock_fd;
    int sock_family;
    int sock_type;
    int sock_proto;
    PyObject *(*errorhandler)(void);
    int64_t sock_timeout; /* _PyTime_t, nanoseconds; -1: blocking */
} RawSocketHead;

static PyTypeObject *RawSocketType, *AcceptOpType, *ConnectOpType;
static Py_ssize_t q_sock, c_started, c_addr;
static PyObject *conn_tls;       /* telemetry.tls: its .c is the calling thread's counters */
static PyObject *errno_codes;    /* errno.errorcode */
static PyObject *conn_one;       /* 1 */
static PyObject *str_tls_c, *str_accepted, *str_connects_started, *str_connects_established, *str_connects_failed;
static int connections_configured = 0;

/* _tel.c.<name> += 1; -1 with the exception set when it raised. */
static int
count_up(PyObject *name)
{
    PyObject *c = PyObject_GetAttr(conn_tls, str_tls_c);
    if (c == NULL)
        return -1;
    PyObject *v = PyObject_GetAttr(c, name);
    PyObject *v1 = v == NULL ? NULL : PyNumber_InPlaceAdd(v, conn_one);
    Py_XDECREF(v);
    int r = v1 == NULL ? -1 : PyObject_SetAttr(c, name, v1);
    Py_XDECREF(v1);
    Py_DECREF(c);
    return r;
}

/* The C socket behind op's queue when the plain case holds (borrowed), else NULL. */
static RawSocketHead *
attempt_socket(PyObject *op, PyTypeObject *cls)
{
    if (!connections_configured || !Py_IS_TYPE(op, cls))
        return NULL;
    PyObject *io = SLOT(op, o_io);
    if (io == NULL || !PyObject_TypeCheck(io, OpQueueType))
        return NULL;
    PyObject *sock = SLOT(io, q_sock);
    if (sock == NULL || !Py_IS_TYPE(sock, RawSocketType))
        return NULL;
    RawSocketHead *s = (RawSocketHead *)sock;
    if ((s->sock_family != AF_INET && s->sock_family != AF_INET6) || s->sock_timeout != 0)
        return NULL;
    return s;
}

/* An OSError raised by the socket module's call (or its socket's constructor), sorted as the
   Python method's "except BlockingIOError: return False / except OSError as exc:
   ECONNABORTED -> False, else self._error = exc -> True" sorts it; anything else stays
   raised (NULL). */
static PyObject *
accept_failed(PyObject *op)
{
    if (PyErr_ExceptionMatches(PyExc_BlockingIOError)) {
        PyErr_Clear();
        Py_RETURN_FALSE;
    }
    if (!PyErr_ExceptionMatches(PyExc_OSError))
        return NULL;
    PyObject *exc = fetch_exception();
    if (exc == NULL)
        return NULL;
    PyObject *no = PyObject_GetAttrString(exc, "errno");
    if (no == NULL) {
        Py_DECREF(exc);
        return NULL;
    }
    int aborted = PyLong_Check(no) && PyLong_AsLong(no) == ECONNABORTED;
    Py_DECREF(no);
    if (aborted) {
        Py_DECREF(exc);
        Py_RETURN_FALSE;
    }
    set_slot_steal(op, o_error, exc);
    Py_RETURN_TRUE;
}

/* ops.AcceptOp.attempt. */
static PyObject *
fast_accept_attempt(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    RawSocketHead *s = nargs == 0 ? attempt_socket(op, AcceptOpType) : NULL;
    if (s == NULL)
        return NULL;
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, err;
    for (;;) {
        len = sizeof(ss);
        memset(&ss, 0, sizeof(ss));
        Py_BEGIN_ALLOW_THREADS
        fd = accept4(s->sock_fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
        Py_END_ALLOW_THREADS
        if (fd >= 0)
            break;
        err = errno;
        if (err == EINTR) {
            /* The socket module runs the signal handlers and tries again. */
            if (PyErr_CheckSignals() < 0)
                return NULL;
            continue;
        }
        if (err == EAGAIN || err == EWOULDBLOCK || err == ECONNABORTED)
            Py_RETURN_FALSE; /* nobody waiting, or gone before taken: .NET keeps waiting */
        PyObject *exc = oserror_from_errno(err);
        if (exc == NULL)
            return NULL;
        set_slot_steal(op, o_error, exc);
        Py_RETURN_TRUE;
    }
    PyObject *addr = make_sockaddr(&ss, len);
    if (addr == NULL) {
        close(fd);
        return accept_failed(op);
    }
    /* Non-blocking from accept4 on: SOCK_NONBLOCK in the type tells the socket module so (its
       timeout is 0, as setblocking(False) leaves it), and OpQueue makes no second call. */
    PyObject *accepted = PyObject_CallFunction((PyObject *)RawSocketType, "iiii", s->sock_family,
                                               s->sock_type | SOCK_NONBLOCK, s->sock_proto, fd);
    if (accepted == NULL) {
        Py_DECREF(addr);
        close(fd);
        return accept_failed(op);
    }
    PyObject *value = PyTuple_Pack(2, accepted, addr);
    Py_DECREF(accepted);
    Py_DECREF(addr);
    if (value == NULL)
        return NULL;
    set_slot_steal(op, o_value, value);
    if (count_up(str_accepted) < 0)
        return NULL;
    Py_RETURN_TRUE;
}

/* OSError(err, errno.errorcode.get(err, str(err))), what the Python method stores. */
static PyObject *
connect_error(int err)
{
    PyObject *code = PyLong_FromLong(err);
    if (code == NULL)
        return NULL;
    PyObject *name = PyDict_GetItemWithError(errno_codes, code);
    if (name != NULL)
        Py_INCREF(name);
    else if (!PyErr_Occurred())
        name = PyObject_Str(code);
    Py_DECREF(code);
    if (name == NULL)
        return NULL;
    PyObject *exc = PyObject_CallFunction(PyExc_OSError, "iO", err, name);
    Py_DECREF(name);
    return exc;
}

/* The end of the Python method: the failure or the connection, counted. */
static PyObject *
connect_ended(PyObject *op, int err, PyObject *peer)
{
    if (err) {
        PyObject *exc = connect_error(err);
        if (exc == NULL)
            return NULL;
        set_slot_steal(op, o_error, exc);
        if (count_up(str_connects_failed) < 0)
            return NULL;
    }
    else {
        set_slot(op, o_value, peer);
        if (count_up(str_connects_established) < 0)
            return NULL;
    }
    Py_RETURN_TRUE;
}

/* ops.ConnectOp.attempt. */
static PyObject *
fast_connect_attempt(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    RawSocketHead *s = nargs == 0 ? attempt_socket(op, ConnectOpType) : NULL;
    if (s == NULL)
        return NULL;
    PyObject *started = SLOT(op, c_started);
    if (started == Py_False) {
        PyObject *addr = SLOT(op, c_addr);
        struct sockaddr_storage ss;
        socklen_t len;
        if (addr == NULL || !PyTuple_CheckExact(addr) || !parse_sockaddr(addr, &ss, &len) ||
            ss.ss_family != s->sock_family)
            return NULL; /* a name, a scope, another family: the socket module's parsing */
        Py_INCREF(addr);
        set_slot(op, c_started, Py_True);
        if (count_up(str_connects_started) < 0) {
            Py_DECREF(addr);
            return NULL;
        }
        int audited = PySys_Audit("socket.connect", "OO", (PyObject *)s, addr);
        Py_DECREF(addr);
        if (audited < 0) {
            /* connect_ex raised it: an OSError (a hook's PermissionError) fails the attempt. */
            if (!PyErr_ExceptionMatches(PyExc_OSError))
                return NULL;
            PyObject *exc = fetch_exception();
            if (exc == NULL)
                return NULL;
            set_slot_steal(op, o_error, exc);
            if (count_up(str_connects_failed) < 0)
                return NULL;
            Py_RETURN_TRUE;
        }
        int res;
        Py_BEGIN_ALLOW_THREADS
        res = connect(s->sock_fd, (struct sockaddr *)&ss, len);
        Py_END_ALLOW_THREADS
        int err = res == 0 ? 0 : errno;
        if (err == EINTR && PyErr_CheckSignals() < 0)
            return NULL;
        if (err == EINPROGRESS || err == EAGAIN || err == EALREADY)
            Py_RETURN_FALSE;
        return connect_ended(op, err, Py_None);
    }
    if (started != Py_True)
        return NULL;
    int err = 0;
    socklen_t elen = sizeof(err);
    if (getsockopt(s->sock_fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    PyObject *peer = Py_NewRef(Py_None);
    if (err == 0) {
        /* Spurious readiness: still connecting unless getpeername works. */
        struct sockaddr_storage ss;
        socklen_t len = s->sock_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        memset(&ss, 0, sizeof(ss));
        int res;
        Py_BEGIN_ALLOW_THREADS
        res = getpeername(s->sock_fd, (struct sockaddr *)&ss, &len);
        Py_END_ALLOW_THREADS
        if (res < 0) {
            if (errno == ENOTCONN) {
                Py_DECREF(peer);
                Py_RETURN_FALSE;
            }
        }
        else {
            Py_SETREF(peer, make_sockaddr(&ss, len));
            if (peer == NULL)
                return NULL;
        }
    }
    PyObject *r = connect_ended(op, err, peer);
    Py_DECREF(peer);
    return r;
}

/* ---- Connect(IPEndPoint) -------------------------------------------------------- */

/* SocketConnections.Connect's steady state, Connect(IPEndPoint) with tracing off on a fresh
   blocking socket whose queue has nothing to send (the Python method's own fast path, and
   _connect_to, _start_connect and _connect_attempt for its one endpoint, without their frames):
   the audit event, the ConnectOp they build, OpQueue.start_write (its attempt, the compiled
   one above, then its park), syncwait.wait while it is in progress (Close from another thread
   ends that wait as it ends the Python method's), and _connect_failed_with for a failure.
   Anything else (another overload or endpoint class, a socket disposed, listening, connected,
   disconnected, non-blocking or after a failed connect, an endpoint whose address is not
   cached for this socket) is the Python method's. */

static Py_ssize_t k_connected, k_disconnected, k_listening, k_connect_failed; /* SocketCore */
static Py_ssize_t c_extra, c_index, c_then, c_later;                        /* ConnectOp */
static PyObject *conn_waiters;      /* syncwait.waiters: its .waiter is this thread's */
static PyObject *conn_thread_waiter; /* syncwait.thread_waiter: makes it */
static PyObject *conn_sync_wait;    /* syncwait.wait */
static PyObject *str_waiter, *str_connect_step, *str_connect_failed_with, *conn_minus_one;

static PyObject *
fast_connect(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1 || !connections_configured || !Py_IS_TYPE(args[0], EndPointType) || !is_socket(self))
        return NULL;
    PyObject *ep = args[0];
    if (SLOT(self, s_disposed) != Py_False || SLOT(self, k_disconnected) != Py_False ||
        SLOT(self, k_listening) != Py_False || SLOT(self, k_connected) != Py_False ||
        SLOT(self, s_blocking) != Py_True || SLOT(self, k_connect_failed) != Py_False)
        return NULL;
    PyObject *io = SLOT(self, s_io);
    if (io == NULL || !Py_IS_TYPE(io, OpQueueType) || SLOT(io, q_closed) != Py_False)
        return NULL;
    PyObject *wq = SLOT(io, q_wq), *sock = SLOT(io, q_sock);
    if (wq == NULL || queue_length(wq) != 0 || sock == NULL || !Py_IS_TYPE(sock, RawSocketType))
        return NULL;
    RawSocketHead *s = (RawSocketHead *)sock;
    if ((s->sock_family != AF_INET && s->sock_family != AF_INET6) || s->sock_timeout != 0)
        return NULL;
    PyObject *addr = cached_sockaddr(self, ep); /* borrowed */
    struct sockaddr_storage ss;
    socklen_t len;
    if (addr == NULL || !parse_sockaddr(addr, &ss, &len) || ss.ss_family != s->sock_family || tracing_enabled())
        return NULL;
    Py_INCREF(addr);
    Py_INCREF(io);
    PyObject *op = NULL, *r;
    if (audit_send("dotnet_sockets.Socket.Connect", self, ep) < 0)
        goto done;
    PyObject *waiter = PyObject_GetAttr(conn_waiters, str_waiter);
    if (waiter == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            goto done;
        PyErr_Clear();
        if ((waiter = PyObject_CallNoArgs(conn_thread_waiter)) == NULL)
            goto done;
    }
    op = PyObject_CallFunctionObjArgs((PyObject *)ConnectOpType, io, Py_None, Py_None, NULL);
    if (op == NULL) {
        Py_DECREF(waiter);
        goto done;
    }
    set_slot_steal(op, o_ctx, waiter); /* it waits on this thread (see _engine.syncwait) */
    PyObject *targets = PyList_New(1);
    PyObject *then = targets == NULL ? NULL : PyObject_GetAttr(self, str_connect_step);
    if (then == NULL) {
        Py_XDECREF(targets);
        Py_CLEAR(op);
        goto done;
    }
    PyList_SET_ITEM(targets, 0, Py_NewRef(ep));
    set_slot(op, c_later, Py_False);
    set_slot(op, c_index, int_zero);
    set_slot_steal(op, c_extra, targets);
    set_slot_steal(op, c_then, then);
    set_slot(op, c_addr, addr);
    set_slot(op, c_started, Py_False);
    if ((r = PyObject_CallMethodOneArg(io, str_start_write, op)) == NULL)
        goto done;
    Py_DECREF(r);
    if (SLOT(op, o_done) != Py_True) {
        if ((r = PyObject_CallFunctionObjArgs(conn_sync_wait, io, op, conn_minus_one, NULL)) == NULL)
            goto done;
        Py_DECREF(r);
    }
    if (SLOT(op, o_error) != Py_None) {
        r = PyObject_CallMethodOneArg(self, str_connect_failed_with, op);
        Py_XDECREF(r); /* (it always raises) */
        goto done;
    }
    Py_DECREF(op);
    Py_DECREF(io);
    Py_DECREF(addr);
    Py_RETURN_NONE;
done:
    Py_XDECREF(op);
    Py_DECREF(io);
    Py_DECREF(addr);
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_SystemError, "Connect: a helper returned without raising");
    return NULL;
}

/* ---- EndAccept ------------------------------------------------------------------- */

/* SocketConnections.EndAccept's steady state with tracing off: an AcceptOp of this socket's,
   finished, not ended, without error, of BeginAccept(callback, state) (extra None): _end's
   checks all pass, so it is marked ended and its connection goes to _from_accepted, without
   the frames of EndAccept and _end.  Anything else (not finished yet, failed, ended, another
   socket's, the receive_size forms) is the Python method's, which raises or waits. */

static Py_ssize_t a_extra; /* AcceptOp */
static PyObject *str_from_accepted;

static PyObject *
fast_end_accept(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1 || !connections_configured || !Py_IS_TYPE(args[0], AcceptOpType) || !is_socket(self))
        return NULL;
    PyObject *ar = args[0];
    PyObject *value = SLOT(ar, o_value);
    if (SLOT(ar, o_io) != SLOT(self, s_io) || SLOT(ar, o_ended) != Py_False || SLOT(ar, o_done) != Py_True ||
        SLOT(ar, o_error) != Py_None || SLOT(ar, a_extra) != Py_None || value == NULL ||
        !PyTuple_CheckExact(value) || PyTuple_GET_SIZE(value) != 2 || tracing_enabled())
        return NULL;
    set_slot(ar, o_ended, Py_True);
    Py_INCREF(value);
    PyObject *from_accepted = PyObject_GetAttr(self, str_from_accepted);
    PyObject *r = from_accepted == NULL ? NULL
                                        : PyObject_CallFunctionObjArgs(from_accepted, self, PyTuple_GET_ITEM(value, 0),
                                                                       PyTuple_GET_ITEM(value, 1), NULL);
    Py_XDECREF(from_accepted);
    Py_DECREF(value);
    return r;
}

/* configure_connections(AcceptOp, ConnectOp, telemetry_tls, sample, waiters, thread_waiter,
   wait): the last three are _engine.syncwait's; sample is a socket module
   C socket made for the check, non-blocking, that this function may change and its caller then
   closes. */
static PyObject *
configure_connections(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7 || !PyType_Check(args[0]) || !PyType_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError,
                        "configure_connections(AcceptOp, ConnectOp, tls, sample, waiters, thread_waiter, wait)");
        return NULL;
    }
    if (!configured || OpQueueType == NULL) {
        PyErr_SetString(PyExc_TypeError, "configure_connections() before configure()");
        return NULL;
    }
    connections_configured = 0;
    if ((q_sock = slot_offset(OpQueueType, "sock")) < 0 ||
        (c_started = slot_offset((PyTypeObject *)args[1], "started")) < 0 ||
        (c_addr = slot_offset((PyTypeObject *)args[1], "addr")) < 0 ||
        (c_extra = slot_offset((PyTypeObject *)args[1], "extra")) < 0 ||
        (c_index = slot_offset((PyTypeObject *)args[1], "index")) < 0 ||
        (c_then = slot_offset((PyTypeObject *)args[1], "then")) < 0 ||
        (c_later = slot_offset((PyTypeObject *)args[1], "later")) < 0 ||
        (k_connected = slot_offset(SocketCoreType, "_connected")) < 0 ||
        (k_disconnected = slot_offset(SocketCoreType, "_disconnected")) < 0 ||
        (k_listening = slot_offset(SocketCoreType, "_listening")) < 0 ||
        (k_connect_failed = slot_offset(SocketCoreType, "_connect_failed")) < 0 ||
        (a_extra = slot_offset((PyTypeObject *)args[0], "extra")) < 0)
        return NULL;
    if (str_from_accepted == NULL && (str_from_accepted = PyUnicode_InternFromString("_from_accepted")) == NULL)
        return NULL;
    if ((str_waiter == NULL && (str_waiter = PyUnicode_InternFromString("waiter")) == NULL) ||
        (str_connect_step == NULL && (str_connect_step = PyUnicode_InternFromString("_connect_step")) == NULL) ||
        (str_connect_failed_with == NULL &&
         (str_connect_failed_with = PyUnicode_InternFromString("_connect_failed_with")) == NULL) ||
        (conn_minus_one == NULL && (conn_minus_one = PyLong_FromLong(-1)) == NULL))
        return NULL;
    if ((str_tls_c == NULL && (str_tls_c = PyUnicode_InternFromString("c")) == NULL) ||
        (str_accepted == NULL && (str_accepted = PyUnicode_InternFromString("accepted")) == NULL) ||
        (str_connects_started == NULL &&
         (str_connects_started = PyUnicode_InternFromString("connects_started")) == NULL) ||
        (str_connects_established == NULL &&
         (str_connects_established = PyUnicode_InternFromString("connects_established")) == NULL) ||
        (str_connects_failed == NULL && (str_connects_failed = PyUnicode_InternFromString("connects_failed")) == NULL))
        return NULL;
    if (conn_one == NULL && (conn_one = PyLong_FromLong(1)) == NULL)
        return NULL;
    if (errno_codes == NULL) {
        PyObject *mod = PyImport_ImportModule("errno");
        if (mod == NULL)
            return NULL;
        errno_codes = PyObject_GetAttrString(mod, "errorcode");
        Py_DECREF(mod);
        if (errno_codes == NULL)
            return NULL;
        if (!PyDict_Check(errno_codes)) {
            Py_CLEAR(errno_codes);
            PyErr_SetString(PyExc_TypeError, "errno.errorcode is not a dict");
            return NULL;
        }
    }
    /* The struct head above must be what this Python's socket module lays out: read a live
       socket both ways (its number, family, type, protocol; its timeout at 0 and at 1.5 s). */
    PyObject *sample = args[3];
    RawSocketHead *h = (RawSocketHead *)sample;
    PyObject *fileno = PyObject_CallMethod(sample, "fileno", NULL);
    PyObject *family = PyObject_GetAttrString(sample, "family");
    PyObject *type = PyObject_GetAttrString(sample, "type");
    PyObject *proto = PyObject_GetAttrString(sample, "proto");
    int same = fileno != NULL && family != NULL && type != NULL && proto != NULL && PyLong_Check(fileno) &&
               PyLong_Check(family) && PyLong_Check(type) && PyLong_Check(proto) &&
               PyLong_AsLong(fileno) == h->sock_fd && PyLong_AsLong(family) == h->sock_family &&
               PyLong_AsLong(type) == h->sock_type && PyLong_AsLong(proto) == h->sock_proto;
    Py_XDECREF(fileno);
    Py_XDECREF(family);
    Py_XDECREF(type);
    Py_XDECREF(proto);
    if (PyErr_Occurred())
        return NULL;
    if (same && h->sock_timeout == 0) {
        PyObject *r = PyObject_CallMethod(sample, "settimeout", "d", 1.5);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
        same = h->sock_timeout == 1500000000LL;
    }
    else
        same = 0;
    if (!same) {
        /* Another layout: the Python methods do every attempt. */
        Py_RETURN_FALSE;
    }
    Py_XSETREF(RawSocketType, (PyTypeObject *)Py_NewRef((PyObject *)Py_TYPE(sample)));
    Py_XSETREF(AcceptOpType, (PyTypeObject *)Py_NewRef(args[0]));
    Py_XSETREF(ConnectOpType, (PyTypeObject *)Py_NewRef(args[1]));
    Py_XSETREF(conn_tls, Py_NewRef(args[2]));
    Py_XSETREF(conn_waiters, Py_NewRef(args[4]));
    Py_XSETREF(conn_thread_waiter, Py_NewRef(args[5]));
    Py_XSETREF(conn_sync_wait, Py_NewRef(args[6]));
    connections_configured = 1;
    Py_RETURN_TRUE;
}
