/* ---- small helpers ------------------------------------------------------ */

/* The length of a buffer the fast paths take as it is: a bytearray, or (when it is only read) bytes;
   -1 for anything else, which the Python functions take (views, other buffer kinds). */
static inline Py_ssize_t
plain_buffer_len(PyObject *buffer, int writable)
{
    if (PyByteArray_CheckExact(buffer))
        return PyByteArray_GET_SIZE(buffer);
    if (!writable && PyBytes_CheckExact(buffer))
        return PyBytes_GET_SIZE(buffer);
    return -1;
}

/* 1 when the "dotnet_sockets" logger traces DEBUG (or that cannot be told), 0 when not.
   Reads logging's own per-level cache, as Logger.isEnabledFor does first. */
static int
tracing_enabled(void)
{
    if (logger_cache != NULL) {
        /* Logging clears this dict in place whenever levels or handlers change. */
        PyObject *v = PyDict_GetItemWithError(logger_cache, DEBUG_LEVEL);
        if (v == Py_False)
            return 0;
        if (v == NULL && PyErr_Occurred())
            goto unknown;
    }
    PyObject *r = PyObject_CallOneArg(is_enabled_for, DEBUG_LEVEL);
    if (r == NULL)
        goto unknown;
    int t = PyObject_IsTrue(r);
    Py_DECREF(r);
    if (t >= 0)
        return t;
unknown:
    /* Cannot tell: the Python path asks again, and raises what there is to raise. */
    PyErr_Clear();
    return 1;
}

/* True while no thread suppresses ExecutionContext flow (the case with nothing to look up). */
static int
flow_not_suppressed(void)
{
    return suppressing_threads == 0;
}

/* execution_context._count_changed: its _suppressing_threads, each time it changes. */
static PyObject *
set_suppressing(PyObject *module, PyObject *n)
{
    long v = PyLong_AsLong(n);
    if (v == -1 && PyErr_Occurred())
        return NULL;
    suppressing_threads = v;
    Py_RETURN_NONE;
}

/* len() of a deque without a call through its type (Py_SIZE is a deque's length). */
static inline Py_ssize_t
queue_length(PyObject *q)
{
    if (Py_IS_TYPE(q, DequeType))
        return Py_SIZE(q);
    Py_ssize_t n = PyObject_Length(q);
    if (n < 0)
        PyErr_Clear();
    return n;
}

/* _checks.no_flags, the one rule for "no socket flags", spelled in C: an int (SocketFlags
   or any int subclass) whose stored value is 0.  Its __bool__, __index__ and __int__ are
   never called (PyLong_AsLongAndOverflow reads an int subclass's value directly), so a
   subclass that raises or lies in them gets the answer the Python path gets.  Anything
   that is not an int: 0 here, and Python decides. */
static int
flags_none(PyObject *flags)
{
    if (!PyLong_Check(flags))
        return 0;
    int overflow;
    long v = PyLong_AsLongAndOverflow(flags, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return v == 0 && overflow == 0;
}

/* The endpoint's sockaddr tuple for this socket (borrowed), picked as the twins pick it
   (ep._sa_dual on an IPv6 socket, else ep._sa), when it is cached and of the socket's
   length; NULL when the Python path has to work it out (or refuse it). */
static PyObject *
cached_sockaddr(PyObject *self, PyObject *ep)
{
    PyObject *addr = SLOT(ep, SLOT(self, s_v6) == Py_True ? e_sa_dual : e_sa);
    PyObject *alen = SLOT(self, s_alen);
    if (addr == NULL || !PyTuple_CheckExact(addr) || alen == NULL || !PyLong_CheckExact(alen) ||
        PyTuple_GET_SIZE(addr) != PyLong_AsSsize_t(alen))
        return NULL;
    return addr;
}

/* Parse a numeric (host, port[, flowinfo, scope_id]) tuple; 0 when it is not one this
   fast path handles (the caller then lets Python's socket module do it). */
static PyObject *sa_cache_key; /* the last tuple parsed (tuples are immutable) */
static struct sockaddr_storage sa_cache;
static socklen_t sa_cache_len;

static int parse_sockaddr_uncached(PyObject *addr, struct sockaddr_storage *ss, socklen_t *len);

static int
parse_sockaddr(PyObject *addr, struct sockaddr_storage *ss, socklen_t *len)
{
    if (addr == sa_cache_key) {
        memcpy(ss, &sa_cache, sa_cache_len);
        *len = sa_cache_len;
        return 1;
    }
    if (!parse_sockaddr_uncached(addr, ss, len))
        return 0;
    Py_XSETREF(sa_cache_key, Py_NewRef(addr));
    memcpy(&sa_cache, ss, *len);
    sa_cache_len = *len;
    return 1;
}

static int
parse_sockaddr_uncached(PyObject *addr, struct sockaddr_storage *ss, socklen_t *len)
{
    Py_ssize_t n = PyTuple_GET_SIZE(addr);
    if (n != 2 && n != 4)
        return 0;
    PyObject *host = PyTuple_GET_ITEM(addr, 0), *port = PyTuple_GET_ITEM(addr, 1);
    if (!PyUnicode_CheckExact(host) || !PyLong_CheckExact(port))
        return 0;
    long p = PyLong_AsLong(port);
    if (p < 0 || p > 0xFFFF) {
        PyErr_Clear();
        return 0;
    }
    const char *h = PyUnicode_AsUTF8(host);
    if (h == NULL) {
        PyErr_Clear();
        return 0;
    }
    memset(ss, 0, sizeof(*ss));
    if (n == 2) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        if (inet_pton(AF_INET, h, &sin->sin_addr) != 1)
            return 0;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((unsigned short)p);
        *len = sizeof(*sin);
        return 1;
    }
    PyObject *flow = PyTuple_GET_ITEM(addr, 2), *scope = PyTuple_GET_ITEM(addr, 3);
    if (!PyLong_CheckExact(flow) || !PyLong_CheckExact(scope))
        return 0;
    unsigned long f = PyLong_AsUnsignedLong(flow), sc = PyLong_AsUnsignedLong(scope);
    if (PyErr_Occurred() || f > 0xFFFFF || sc > 0xFFFFFFFFUL) {
        PyErr_Clear();
        return 0;
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET6, h, &sin6->sin6_addr) != 1)
        return 0;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((unsigned short)p);
    sin6->sin6_flowinfo = htonl((uint32_t)f);
    sin6->sin6_scope_id = (uint32_t)sc;
    *len = sizeof(*sin6);
    return 1;
}

/* The exception being raised, normalized, with its traceback attached (a new reference). */
static PyObject *
fetch_exception(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
}

/* The exception being raised was raised by a Python helper called with cause handled: the
   twins raise it inside "except ... as cause:", which makes cause its __context__ (shown or
   not, it is there for code that walks the chain); give it the same. */
static void
chain_raised(PyObject *cause)
{
    PyObject *raised = fetch_exception();
    if (raised == NULL)
        return;
    if (raised != cause) {
        PyObject *old_ctx = PyException_GetContext(raised);
        if (old_ctx == NULL)
            PyException_SetContext(raised, Py_NewRef(cause));
        Py_XDECREF(old_ctx);
    }
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(raised)), raised, PyException_GetTraceback(raised));
}

/* The OSError of a failed send, as Python's socket module raises it (errno picks the subclass). */
static PyObject *
oserror_from_errno(int err)
{
    errno = err;
    PyErr_SetFromErrno(PyExc_OSError);
    return fetch_exception();
}

#define SEND_FAILED (-1)      /* *exc: the OSError the Python twin's "except OSError" handles */
#define SEND_RAISED (-2)      /* an exception to propagate is set */
#define SEND_WOULD_BLOCK (-3) /* the twin's "except BlockingIOError" */

/* An exception raised inside the send (an audit hook, a signal handler), sorted as the
   twins' "except BlockingIOError: ... except OSError as exc: ..." sort it. */
static Py_ssize_t
send_exception(PyObject **exc)
{
    if (PyErr_ExceptionMatches(PyExc_BlockingIOError)) {
        PyErr_Clear();
        return SEND_WOULD_BLOCK;
    }
    if (PyErr_ExceptionMatches(PyExc_OSError)) {
        *exc = fetch_exception();
        return *exc != NULL ? SEND_FAILED : SEND_RAISED;
    }
    return SEND_RAISED;
}

/* What the Python twins' sock._sock.sendto(buf, addr) does on the non-blocking socket:
   the "socket.sendto" audit event (the socket module raises it on every send; audit hooks
   that watch or deny sends by that standard event must see these too), then one sendto.
   Returns the byte count, or one of the SEND_* codes above.

   The GIL stays held: MSG_DONTWAIT cannot wait, and giving the GIL up for a call this short
   lets a waiting thread take it, after which this one queues for it for up to the switch
   interval (the convoy effect), per datagram.

   The caller must keep buf valid across Python code (a bytes object, or a Py_buffer export
   that stops a bytearray from being resized), as the socket module does.  The descriptor is
   taken from io only after the last Python code (the audit hooks, signal handlers) has run,
   and only while io is open: a socket closed meanwhile fails with EBADF, as its closed
   socket.socket does, instead of sending on a descriptor number another socket may have
   been given since. */
/* release: let other threads run during the system call, as the socket module does.  The
   synchronous SendTo does (a thread woken by this very datagram, an echo server in the same
   process, gets the GIL at once: the sync ping-pong's p50 was 34 us holding it against 27 us
   releasing it, on one machine); the asynchronous sends keep it (their callers are loops of
   sends, and a hand-off per datagram would cost them their throughput). */
static Py_ssize_t
send_datagram_gil(PyObject *sock, PyObject *io, const char *buf, Py_ssize_t len, struct sockaddr_storage *ss,
                  socklen_t salen, PyObject *addr, PyObject **exc, int release)
{
    *exc = NULL;
    PyObject *pysock = SLOT(sock, s_sock);
    if (PySys_Audit("socket.sendto", "OO", pysock != NULL ? pysock : Py_None, addr) < 0)
        return send_exception(exc);
    for (;;) {
        PyObject *fdo = SLOT(io, q_fd);
        int err;
        if (SLOT(io, q_closed) != Py_False || fdo == NULL || !PyLong_CheckExact(fdo)) {
            err = EBADF;
        }
        else {
            /* The raw system call: glibc's sendto() is a thread cancellation point, and switching
               asynchronous cancellation on and off around it is a measurable part of a send
               here; Python threads are never cancelled that way. */
            int fd = (int)PyLong_AsLong(fdo);
            Py_ssize_t r;
            if (release) {
                Py_BEGIN_ALLOW_THREADS
                r = syscall(SYS_sendto, fd, buf, (size_t)len, MSG_DONTWAIT, (struct sockaddr *)ss, salen);
                err = errno;
                Py_END_ALLOW_THREADS
            }
            else {
                r = syscall(SYS_sendto, fd, buf, (size_t)len, MSG_DONTWAIT, (struct sockaddr *)ss, salen);
                err = errno;
            }
            if (r >= 0)
                return r;
            if (err == EINTR) {
                if (PyErr_CheckSignals() < 0)
                    return send_exception(exc);
                continue;
            }
            if (err == EAGAIN || err == EWOULDBLOCK)
                return SEND_WOULD_BLOCK;
        }
        *exc = oserror_from_errno(err);
        return *exc != NULL ? SEND_FAILED : SEND_RAISED;
    }
}

static Py_ssize_t
send_datagram(PyObject *sock, PyObject *io, const char *buf, Py_ssize_t len, struct sockaddr_storage *ss,
              socklen_t salen, PyObject *addr, PyObject **exc)
{
    return send_datagram_gil(sock, io, buf, len, ss, salen, addr, exc, 0);
}

/* Run Python's audit hooks for a send; on a denial, raise what the Python path raises. */
static int
audit_send(const char *event, PyObject *self, PyObject *ep)
{
    if (PySys_Audit(event, "OO", self, ep) == 0)
        return 0;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL)
        PyException_SetTraceback(value, tb);
    PyObject *r = value != NULL ? PyObject_CallOneArg(audit_failed, value) : NULL;
    Py_XDECREF(type);
    Py_XDECREF(tb);
    if (r == NULL) {
        /* The twins raise denied(exc) from exc inside "except PermissionError as exc:", which
           also makes exc its __context__; audit_failed runs with no exception being handled,
           so set it here, for the same exception object as the Python path. */
        if (value != NULL)
            chain_raised(value);
        Py_XDECREF(value);
        return -1;
    }
    /* audit_failed always raises; a hook that "returned" leaves the original error. */
    Py_DECREF(r);
    PyErr_SetObject((PyObject *)Py_TYPE(value), value);
    Py_DECREF(value);
    return -1;
}
