/*
 * dotnet_sockets._speedups: the optional accelerator of the datagram send path, of the
 * synchronous stream Send/Receive (and NetworkStream.Write/Read), and of the Begin/End pairs
 * BeginSend/EndSend, BeginReceive/EndReceive (stream) and BeginReceiveFrom/EndReceiveFrom
 * (datagram).
 *
 * Everything here has a pure-Python twin that the tests also run
 * (DOTNET_SOCKETS_PURE=1), and every function falls back to that twin
 * before doing anything visible whenever its input leaves the steady state
 * it was written for (tracing on, a queued send, a slice or flags, an
 * endpoint that is not a numeric IPEndPoint, an odd argument type...).  So the accelerator decides nothing: it only skips the
 * interpreter on the path the benchmarks measure.
 *
 * The Python objects it touches (Socket, OpQueue, IPEndPoint, the send
 * operation, the dispatcher) are __slots__ classes; configure() reads the
 * offsets of their slots once from the member descriptors, so a field read
 * here is a load, not an attribute lookup.
 *
 * One type is not a twin of a function but of a class: OpCore, the core of every
 * operation (asyncresult._PyOpCore compiled: its slots, __init__, _complete, _abort,
 * _run_callback), which asyncresult.AsyncOperation derives from when this module is
 * built.  Its fields are C struct members, read here directly.
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- configuration, filled by configure() ------------------------------ */

static PyTypeObject *SocketCoreType, *OpQueueType, *EndPointType, *SendToOpType, *DispatcherType;

static Py_ssize_t s_io, s_disposed, s_v6, s_alen, s_dgram, s_right_ep, s_sock, s_remote_ep, s_blocking; /* SocketCore */
static Py_ssize_t q_wq, q_rq, q_closed, q_inline, q_fd;                 /* OpQueue */
static Py_ssize_t e_sa, e_sa_dual;                                       /* IPEndPoint */
static Py_ssize_t o_io, o_callback, o_state, o_ctx, o_done, o_sync, o_ended, o_value, o_error, o_handle, o_buf,
    o_addr, o_flags;                                                     /* SendToOp */
static Py_ssize_t d_active, d_current, d_q, d_tls; /* Dispatcher */
/* dispatch._PASS: completions one drain runs before the worker serves ready descriptors. */
static Py_ssize_t drain_pass = 32;
static Py_ssize_t run_next_limit = 16; /* dispatch._RUN_NEXT */

static PyObject *dispatcher;        /* the Dispatcher instance */
static PyObject *dispatch_popleft;  /* dispatcher._q.popleft */
static PyObject *dispatch_q;        /* dispatcher._q */
static PyObject *dispatch_post;     /* dispatcher.post */
static PyObject *add_worker;        /* dispatcher._add_worker */
static PyObject *str_run_next, *str_append;
static PyObject *report_exception;  /* dispatch.report_exception */
static PyObject *audit_failed;      /* raises the SecurityException for a denied audit event */
static PyObject *sendto_failed;     /* raises an awaited send's SocketException */
static PyObject *sync_failed;       /* raises a synchronous call's (sock._sync_failed) */
static PyObject *sendto_python;     /* SocketTransfer.SendTo, the Python function (its slow path) */
static PyObject *send_to_wait;      /* SocketTransfer._send_to_wait: a steady SendTo's would-block */
static PyObject *ea_no_flags;       /* SocketFlags.None_ (set by configure) */
static PyObject *receive_wait;      /* SocketTransfer._receive_wait: a steady Receive's would-block */
static PyObject *send_rest;         /* SocketTransfer._send_rest: a steady Send's would-block */
static PyTypeObject *NetworkStreamType;
static PyObject *ns_wrapped;        /* networkstream._WRAPPED: the errors a NetworkStream wraps */
static PyObject *ns_wrap;           /* networkstream._wrap(exc, template) -> IOException */
static PyObject *ns_read_failure, *ns_write_failure; /* its two templates */
static PyObject *str_readable, *str_writeable, *str_nsock;
static PyObject *begin_send_to_general; /* SocketTransfer._begin_send_to_general: BeginSendTo past its audit */
static PyObject *kw_remote_ep;      /* ("remote_ep",) */
static PyObject *logger_cache_owner; /* the "dotnet_sockets" logger */
static PyObject *is_enabled_for;    /* its isEnabledFor */
static PyObject *logger_cache;      /* its per-level cache (a dict), or NULL */
static PyObject *exec_ctx_dict;     /* execution_context.__dict__ (for capture_context) */
static PyObject *DEBUG_LEVEL;       /* logging.DEBUG */

static PyObject *str_throw, *str_ctx, *str_callback, *str_cache, *str_enqueue_write, *str_run;

/* execution_context._suppressing_threads, kept up to date by set_suppressing (starts
   "suppressed", so that nothing is taken for unsuppressed before configure() has run). */
static long suppressing_threads = 1;
static PyTypeObject *DequeType; /* collections.deque */

/* Telemetry of the calls made here; telemetry.py adds them to its per-thread records. */
static long long tel_bytes_sent, tel_datagrams_sent, tel_bytes_received, tel_datagrams_received;

/* Socket subclasses seen so far are checked once (PyType_IsSubtype walks the MRO). */
static PyTypeObject *last_socket_type;

static inline int
is_socket(PyObject *o)
{
    if (Py_TYPE(o) == last_socket_type)
        return 1;
    if (!PyObject_TypeCheck(o, SocketCoreType))
        return 0;
    Py_XSETREF(last_socket_type, (PyTypeObject *)Py_NewRef(Py_TYPE(o)));
    return 1;
}

#define SLOT(o, off) (*(PyObject **)((char *)(o) + (off)))

static inline void
set_slot(PyObject *o, Py_ssize_t off, PyObject *v)
{
    PyObject *old = SLOT(o, off);
    Py_INCREF(v);
    SLOT(o, off) = v;
    Py_XDECREF(old);
}

/* steal a reference */
static inline void
set_slot_steal(PyObject *o, Py_ssize_t off, PyObject *v)
{
    PyObject *old = SLOT(o, off);
    SLOT(o, off) = v;
    Py_XDECREF(old);
}

static Py_ssize_t
slot_offset(PyTypeObject *type, const char *name)
{
    PyObject *d = PyObject_GetAttrString((PyObject *)type, name);
    if (d == NULL)
        return -1;
    if (!Py_IS_TYPE(d, &PyMemberDescr_Type) || ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not a __slots__ member", type->tp_name, name);
        Py_DECREF(d);
        return -1;
    }
    Py_ssize_t off = ((PyMemberDescrObject *)d)->d_member->offset;
    Py_DECREF(d);
    return off;
}

static int configured = 0;

/* ---- small helpers ------------------------------------------------------ */

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
        Py_ssize_t n;
        if (PyBytes_CheckExact(buffer))
            n = PyBytes_GET_SIZE(buffer);
        else if (PyByteArray_CheckExact(buffer))
            n = PyByteArray_GET_SIZE(buffer);
        else
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

/* The steady state a stream call starts from; the peer the audit event names (borrowed), or NULL. */
static PyObject *
stream_steady(PyObject *self, Py_ssize_t queue_slot)
{
    if (!is_socket(self) || SLOT(self, s_disposed) != Py_False || SLOT(self, s_dgram) != Py_False)
        return NULL;
    /* Python code (the logger) before anything borrowed is read. */
    if (tracing_enabled())
        return NULL;
    PyObject *ep = SLOT(self, s_remote_ep), *io = SLOT(self, s_io);
    if (ep == NULL || ep == Py_None || io == NULL || !Py_IS_TYPE(io, OpQueueType))
        return NULL;
    PyObject *q = SLOT(io, queue_slot);
    if (q == NULL || SLOT(io, q_closed) != Py_False || SLOT(io, q_fd) == NULL || queue_length(q) != 0) {
        PyErr_Clear();
        return NULL;
    }
    return ep;
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
    PyObject *buffer = args[0];
    Py_ssize_t n;
    if (PyByteArray_CheckExact(buffer))
        n = PyByteArray_GET_SIZE(buffer);
    else if (!writable && PyBytes_CheckExact(buffer))
        n = PyBytes_GET_SIZE(buffer);
    else
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

/* ---- inline completions ------------------------------------------------- */

/* The completions this thread still has to run, while its outermost run_inline runs. */
static __thread PyObject *inline_pending;

/* asyncresult._run_inline: run a callback on the caller's thread without recursing (a
   callback whose next Begin completes at once is queued here and run by the outer call). */
static PyObject *
run_inline_c(PyObject *module, PyObject *op)
{
    if (inline_pending != NULL) {
        if (PyList_Append(inline_pending, op) < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    PyObject *pending = PyList_New(1);
    if (pending == NULL)
        return NULL;
    PyList_SET_ITEM(pending, 0, Py_NewRef(op));
    inline_pending = pending;
    Py_ssize_t i = 0;
    while (i < PyList_GET_SIZE(pending)) {
        PyObject *item = PyList_GET_ITEM(pending, i);
        PyList_SET_ITEM(pending, i, Py_NewRef(Py_None));
        i++;
        run_callback(item);
        Py_DECREF(item);
        if (i >= 256) {
            /* A long chain appends one for each it runs: drop the finished head. */
            if (PyList_SetSlice(pending, 0, i, NULL) < 0)
                PyErr_Clear();
            else
                i = 0;
        }
    }
    inline_pending = NULL;
    Py_DECREF(pending);
    Py_RETURN_NONE;
}

/* ---- the operation core: AsyncOperation's slots and completion ------------ */

/* asyncresult._PyOpCore compiled: the same slots (member descriptors of the same names and
   kind, so that Python reads and writes them as it reads __slots__), __init__, _complete,
   _abort and _run_callback.  asyncresult.AsyncOperation derives from this type when the
   accelerator is built, from _PyOpCore when not: one interface, two implementations, as
   asyncio's _asyncio.Future and futures.Future.  What it calls (the dispatcher's post, the
   exception report, ArgumentException, ABORTED, execution_context) it is given once by
   op_core(). */

static PyObject *core_post;       /* dispatch.dispatcher.post */
static PyObject *core_arg_error;  /* exceptions.ArgumentException */
static PyObject *core_aborted;    /* asyncresult.ABORTED */
static PyObject *str_complete, *str_set_even, *str_inline, *str_capture, *str_callback_param;
static PyObject *msg_not_callable;

/* The fields io ... handle, one after the other in the struct. */
#define CORE_FIELDS(self) (&(self)->io)
#define CORE_NFIELDS ((offsetof(OpCore, handle) - offsetof(OpCore, io)) / sizeof(PyObject *) + 1)

static int
core_traverse(OpCore *self, visitproc visit, void *arg)
{
    for (size_t i = 0; i < CORE_NFIELDS; i++)
        Py_VISIT(CORE_FIELDS(self)[i]);
    return 0;
}

static int
core_clear(OpCore *self)
{
    for (size_t i = 0; i < CORE_NFIELDS; i++)
        Py_CLEAR(CORE_FIELDS(self)[i]);
    return 0;
}

static void
core_dealloc(OpCore *self)
{
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    core_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The callback's context, as _PyOpCore.__init__ takes it: a copy of the current one, or
   while some thread suppresses flow capture_context() or an empty Context. */
static PyObject *
core_context(void)
{
    if (suppressing_threads == 0)
        return PyContext_CopyCurrent();
    PyObject *capture = PyDict_GetItemWithError(exec_ctx_dict, str_capture);
    if (capture == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_NameError, "execution_context.capture_context");
        return NULL;
    }
    Py_INCREF(capture);
    PyObject *ctx = PyObject_CallNoArgs(capture);
    Py_DECREF(capture);
    if (ctx == NULL)
        return NULL;
    int truth = PyObject_IsTrue(ctx);
    if (truth < 0) {
        Py_DECREF(ctx);
        return NULL;
    }
    if (!truth)
        Py_SETREF(ctx, PyContext_New());
    return ctx;
}

static int core_setup(OpCore *self, PyObject *io, PyObject *callback, PyObject *state);

static int
core_init(OpCore *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"io", "callback", "state", NULL};
    PyObject *io, *callback, *state;
    if (kwds == NULL && PyTuple_GET_SIZE(args) == 3) {
        io = PyTuple_GET_ITEM(args, 0);
        callback = PyTuple_GET_ITEM(args, 1);
        state = PyTuple_GET_ITEM(args, 2);
    }
    else if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO:AsyncOperation", kwlist, &io, &callback, &state))
        return -1;
    return core_setup(self, io, callback, state);
}

/* __init__(io, callback, state) past its argument parsing (the compiled Begin... calls make
   their operations with it: see new_operation). */
static int
core_setup(OpCore *self, PyObject *io, PyObject *callback, PyObject *state)
{
    Py_XSETREF(self->io, Py_NewRef(io));
    Py_XSETREF(self->callback, Py_NewRef(callback));
    Py_XSETREF(self->state, Py_NewRef(state));
    Py_XSETREF(self->ctx, Py_NewRef(Py_None));
    if (callback != Py_None) {
        if (!PyCallable_Check(callback)) {
            /* Refused here, in Begin..., not later on a completion thread. */
            PyObject *exc = PyObject_CallFunctionObjArgs(core_arg_error, msg_not_callable, str_callback_param, NULL);
            if (exc != NULL) {
                PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
                Py_DECREF(exc);
            }
            return -1;
        }
        PyObject *ctx = core_context();
        if (ctx == NULL)
            return -1;
        Py_SETREF(self->ctx, ctx);
    }
    Py_XSETREF(self->done, Py_NewRef(Py_False));
    Py_XSETREF(self->sync, Py_NewRef(Py_False));
    Py_XSETREF(self->ended, Py_NewRef(Py_False));
    Py_XSETREF(self->value, Py_NewRef(Py_None));
    Py_XSETREF(self->error, Py_NewRef(Py_None));
    Py_XSETREF(self->handle, Py_NewRef(Py_None));
    return 0;
}

/* A slot's value, or AttributeError as an unset __slots__ member raises. */
static PyObject *
core_field(OpCore *self, PyObject *v, const char *name)
{
    if (v == NULL)
        PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute '%s'", Py_TYPE(self)->tp_name, name);
    return v;
}

static int
truth(PyObject *v)
{
    return v == Py_True ? 1 : v == Py_False || v == Py_None ? 0 : PyObject_IsTrue(v);
}

/* "if self._done": 1, 0, or -1 with an exception (unset, or a truth test that raised). */
static int
core_done(OpCore *self)
{
    PyObject *done = core_field(self, self->done, "_done");
    return done == NULL ? -1 : truth(done);
}

static PyObject *
core_complete(OpCore *self, PyObject *synchronously)
{
    int t = core_done(self);
    if (t != 0)
        return t < 0 ? NULL : Py_NewRef(Py_None);
    Py_XSETREF(self->sync, Py_NewRef(synchronously));
    Py_XSETREF(self->done, Py_NewRef(Py_True));
    PyObject *h = core_field(self, self->handle, "_handle");
    if (h == NULL)
        return NULL;
    if (h != Py_None) {
        Py_INCREF(h);
        PyObject *r = PyObject_CallMethodNoArgs(h, str_set_even);
        Py_DECREF(h);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
    }
    PyObject *cb = core_field(self, self->callback, "_callback");
    if (cb == NULL)
        return NULL;
    if (cb == Py_None)
        Py_RETURN_NONE;
    int inline_ = truth(synchronously);
    if (inline_ < 0)
        return NULL;
    if (inline_) {
        PyObject *io = core_field(self, self->io, "_io");
        if (io == NULL)
            return NULL;
        if (configured && Py_IS_TYPE(io, OpQueueType) && SLOT(io, q_inline) != NULL) {
            inline_ = truth(SLOT(io, q_inline));
        }
        else {
            Py_INCREF(io);
            PyObject *v = PyObject_GetAttr(io, str_inline);
            Py_DECREF(io);
            if (v == NULL)
                return NULL;
            inline_ = truth(v);
            Py_DECREF(v);
        }
        if (inline_ < 0)
            return NULL;
    }
    if (inline_)
        return run_inline_c(NULL, (PyObject *)self);
    if (configured)
        return post_completion((PyObject *)self);
    return PyObject_CallOneArg(core_post, (PyObject *)self);
}

static PyObject *
core_abort(OpCore *self, PyObject *unused)
{
    int t = core_done(self);
    if (t != 0)
        return t < 0 ? NULL : Py_NewRef(Py_None);
    Py_XSETREF(self->error, Py_NewRef(core_aborted));
    /* self._complete: a subclass's override (a send lets go of its data there). */
    return PyObject_CallMethodOneArg((PyObject *)self, str_complete, Py_False);
}

static PyObject *
core_run_callback(OpCore *self, PyObject *unused)
{
    run_callback((PyObject *)self);
    Py_RETURN_NONE;
}

static PyMethodDef core_methods[] = {
    {"_complete", (PyCFunction)core_complete, METH_O, "Complete once: the first _complete or _abort wins."},
    {"_abort", (PyCFunction)core_abort, METH_NOARGS, "Complete as aborted (a close), unless already complete."},
    {"_run_callback", (PyCFunction)core_run_callback, METH_NOARGS, "Run the callback in its context; report what it raises."},
    {NULL},
};

static PyMemberDef core_members[] = {
    {"_io", T_OBJECT_EX, offsetof(OpCore, io), 0, NULL},
    {"_callback", T_OBJECT_EX, offsetof(OpCore, callback), 0, NULL},
    {"_state", T_OBJECT_EX, offsetof(OpCore, state), 0, NULL},
    {"_ctx", T_OBJECT_EX, offsetof(OpCore, ctx), 0, NULL},
    {"_done", T_OBJECT_EX, offsetof(OpCore, done), 0, NULL},
    {"_sync", T_OBJECT_EX, offsetof(OpCore, sync), 0, NULL},
    {"_ended", T_OBJECT_EX, offsetof(OpCore, ended), 0, NULL},
    {"_value", T_OBJECT_EX, offsetof(OpCore, value), 0, NULL},
    {"_error", T_OBJECT_EX, offsetof(OpCore, error), 0, NULL},
    {"_handle", T_OBJECT_EX, offsetof(OpCore, handle), 0, NULL},
    {NULL},
};

static PyTypeObject OpCoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "dotnet_sockets._speedups.OpCore",
    .tp_doc = "AsyncOperation's compiled core (see asyncresult._PyOpCore, its pure-Python twin).",
    .tp_basicsize = sizeof(OpCore),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)core_init,
    .tp_traverse = (traverseproc)core_traverse,
    .tp_clear = (inquiry)core_clear,
    .tp_dealloc = (destructor)core_dealloc,
    .tp_weaklistoffset = offsetof(OpCore, weakreflist),
    .tp_methods = core_methods,
    .tp_members = core_members,
};

/* op_core(post, report_exception, ArgumentException, ABORTED, execution_context): the core
   type, given what it calls; execution_context (the module) is told to keep this module's
   count of the threads that suppress flow up to date. */
static PyObject *
op_core(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyModule_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError, "op_core(post, report_exception, ArgumentException, ABORTED, execution_context)");
        return NULL;
    }
    PyObject *ec = args[4];
    PyObject *d = PyModule_GetDict(ec); /* borrowed */
    PyObject *lock = PyObject_GetAttrString(ec, "_count_lock");
    if (lock == NULL)
        return NULL;
    PyObject *r = PyObject_CallMethod(lock, "__enter__", NULL);
    if (r == NULL) {
        Py_DECREF(lock);
        return NULL;
    }
    Py_DECREF(r);
    int failed = 0;
    PyObject *n = PyDict_GetItemString(d, "_suppressing_threads");
    PyObject *setter = PyObject_GetAttrString(module, "set_suppressing");
    if (n == NULL || setter == NULL || PyObject_SetAttrString(ec, "_count_changed", setter) < 0)
        failed = 1;
    else {
        long v = PyLong_AsLong(n);
        if (v == -1 && PyErr_Occurred())
            failed = 1;
        else
            suppressing_threads = v;
    }
    Py_XDECREF(setter);
    r = PyObject_CallMethod(lock, "__exit__", "OOO", Py_None, Py_None, Py_None);
    Py_DECREF(lock);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    if (failed) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_AttributeError, "execution_context._suppressing_threads");
        return NULL;
    }
    Py_XSETREF(core_post, Py_NewRef(args[0]));
    Py_XSETREF(report_exception, Py_NewRef(args[1]));
    Py_XSETREF(core_arg_error, Py_NewRef(args[2]));
    Py_XSETREF(core_aborted, Py_NewRef(args[3]));
    Py_XSETREF(exec_ctx_dict, Py_NewRef(d));
    return Py_NewRef((PyObject *)&OpCoreType);
}

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

/* ---- BeginReceiveFrom / EndReceiveFrom on a datagram socket ---- */

/* The twins of SocketTransfer.BeginReceiveFrom's steady state ((bytearray, offset, size,
   socket_flags, IPEndPoint[, callback[, state]]) as steady_range takes them, on a datagram
   socket with no receive queued, tracing off) and of EndReceiveFrom's _end for this socket's
   finished, unended, successful operation.  The endpoint's rule stays the Python one's
   (Socket._check_receive_ep is called), and so does the sender's endpoint (_endpoint_from). */

static PyTypeObject *ReceiveFromOpType, *ReceiveFromResultType;
static Py_ssize_t rf_buf, rf_flags, rf_extra; /* ReceiveFromOp */
static PyObject *str_check_receive_ep, *str_endpoint_from, *str_remote_ep_param;

static PyObject *
fast_begin_receive_from(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t offset, size;
    /* (0 bytes waits for a datagram: ops.ReceiveFromZeroOp, built by the general path) */
    if (nargs < 5 || nargs > 7 || !steady_args(args, 4, 1, &offset, &size) || size == 0)
        return NOT_TAKEN;
    PyObject *ep = args[4];
    PyObject *callback = nargs > 5 ? args[5] : Py_None, *state = nargs > 6 ? args[6] : Py_None;
    if (!Py_IS_TYPE(ep, EndPointType) || (callback != Py_None && !PyCallable_Check(callback)) || !is_socket(self) ||
        SLOT(self, s_disposed) != Py_False || SLOT(self, s_dgram) != Py_True)
        return NOT_TAKEN;
    /* Python code (the logger) before anything borrowed is read. */
    if (tracing_enabled())
        return NOT_TAKEN;
    PyObject *io = SLOT(self, s_io);
    if (io == NULL || !Py_IS_TYPE(io, OpQueueType))
        return NOT_TAKEN;
    PyObject *rq = SLOT(io, q_rq);
    if (rq == NULL || SLOT(io, q_closed) != Py_False || SLOT(io, q_fd) == NULL || queue_length(rq) != 0) {
        PyErr_Clear();
        return NOT_TAKEN;
    }
    /* The twin's memoryview of the range, made before the endpoint's checks and the hooks. */
    PyObject *range = range_view(args[0], offset, size);
    if (range == NULL)
        return NULL;
    Py_INCREF(ep); /* (a hook may drop the caller's last reference: the twin's argument holds it) */
    PyObject *checked = PyObject_CallMethodObjArgs(self, str_check_receive_ep, ep, str_remote_ep_param, NULL);
    Py_XDECREF(checked);
    io = NULL;
    PyObject *op = NULL;
    if (checked != NULL && audit_send("dotnet_sockets.Socket.BeginReceiveFrom", self, ep) == 0 &&
        (io = queue_after_hooks(self)) != NULL &&
        (op = new_operation(ReceiveFromOpType, io, callback, state)) != NULL) {
        set_slot(op, rf_extra, ep);
        set_slot(op, rf_flags, int_zero);
        set_slot(op, rf_buf, range);
        if (receive_now(io, op, range, size, 1) < 0)
            Py_CLEAR(op);
    }
    Py_XDECREF(io);
    Py_DECREF(range);
    Py_DECREF(ep);
    return op;
}

static PyObject *
fast_end_receive_from(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1 || !Py_IS_TYPE(args[0], ReceiveFromOpType) || !is_socket(self))
        return NOT_TAKEN;
    if (tracing_enabled())
        return NOT_TAKEN;
    PyObject *ar = args[0];
    OpCore *core = (OpCore *)ar;
    PyObject *v = core->value, *hint = SLOT(ar, rf_extra);
    if (core->done != Py_True || core->ended != Py_False || core->error != Py_None || v == NULL ||
        !PyTuple_CheckExact(v) || PyTuple_GET_SIZE(v) != 2 || hint == NULL || core->io != SLOT(self, s_io))
        return NOT_TAKEN;
    Py_SETREF(core->ended, Py_NewRef(Py_True));
    Py_INCREF(v);
    Py_INCREF(hint);
    PyObject *sender = PyObject_CallMethodObjArgs(self, str_endpoint_from, PyTuple_GET_ITEM(v, 1), hint, NULL);
    PyObject *res = NULL;
    if (sender != NULL) {
        PyObject *callargs[2] = {PyTuple_GET_ITEM(v, 0), sender};
        res = PyObject_Vectorcall((PyObject *)ReceiveFromResultType, callargs, 2, NULL);
        Py_DECREF(sender);
    }
    Py_DECREF(v);
    Py_DECREF(hint);
    return res;
}

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

/* ---- the kept reader's report (aio._LoopWatch.ready's twin) ------------------ */

/* The loop calls a kept reader's ready() on every report of its descriptor, two per awaited
   receive that waits (the report that wakes it, and the stale one of the iteration after).  The
   twin takes the case where a receive waits on it (keep.waiter a _LoopWaiter); "nobody waits"
   (the reader lets go of the descriptor there) and anything unexpected run the Python method. */

static PyTypeObject *LoopWatchType, *LoopWaiterType;
static Py_ssize_t lw_waiter, lw_suspect, lw_poll, lwt_fut;
static PyObject *invalid_state_error; /* asyncio.InvalidStateError */
static PyObject *str_set_result;

static PyObject *
fast_watch_ready(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 0 || !Py_IS_TYPE(self, LoopWatchType))
        return NOT_TAKEN;
    PyObject *w = SLOT(self, lw_waiter), *suspect = SLOT(self, lw_suspect);
    if (w == NULL || !Py_IS_TYPE(w, LoopWaiterType) || (suspect != Py_True && suspect != Py_False))
        return NOT_TAKEN;
    Py_INCREF(w); /* the twin's local: what the poll's signal handlers do to keep.waiter does not move it */
    if (suspect == Py_True) {
        /* The first report after a wait started may be from before its call: ask the kernel. */
        set_slot(self, lw_suspect, Py_False);
        PyObject *poll = SLOT(self, lw_poll), *ready = NULL, *zero = PyLong_FromLong(0);
        if (poll != NULL && zero != NULL)
            ready = PyObject_CallOneArg(poll, zero);
        else if (poll == NULL && zero != NULL)
            PyErr_SetString(PyExc_AttributeError, "poll");
        Py_XDECREF(zero);
        int t = ready == NULL ? -1 : PyObject_IsTrue(ready);
        Py_XDECREF(ready);
        if (t <= 0) {
            Py_DECREF(w);
            if (t < 0)
                return NULL;
            Py_RETURN_NONE;
        }
    }
    PyObject *fut = SLOT(w, lwt_fut);
    if (fut != NULL && fut != Py_None) {
        Py_INCREF(fut);
        PyObject *r = PyObject_CallMethodOneArg(fut, str_set_result, Py_None);
        Py_DECREF(fut);
        if (r == NULL) {
            /* woken already (its step not yet run), or cancelled */
            if (!PyErr_ExceptionMatches(invalid_state_error)) {
                Py_DECREF(w);
                return NULL;
            }
            PyErr_Clear();
        }
        Py_XDECREF(r);
    }
    Py_DECREF(w);
    Py_RETURN_NONE;
}

/* ---- the completion workers' drain loop -------------------------------- */

static PyObject *
drain(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    /* Dispatcher._run's inner loop: run at most drain_pass completions in their context, from
       the worker's own deque first (what its callbacks posted: up to run_next_limit in a row)
       then the shared one; returns how many of its own it ran in a row (the worker then
       serves ready descriptors and comes back). */
    PyObject *disp, *own;
    Py_ssize_t in_a_row;
    if (nargs != 3 || !PyLong_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "drain(dispatcher, own, in_a_row)");
        return NULL;
    }
    disp = args[0];
    own = args[1];
    in_a_row = PyLong_AsSsize_t(args[2]);
    if (in_a_row == -1 && PyErr_Occurred())
        return NULL;
    if (!configured || !PyObject_TypeCheck(disp, DispatcherType) || SLOT(disp, d_q) == NULL) {
        PyErr_SetString(PyExc_TypeError, "drain(dispatcher) before configure()");
        return NULL;
    }
    PyObject *q = Py_NewRef(SLOT(disp, d_q));
    PyObject *popleft = q == dispatch_q ? Py_NewRef(dispatch_popleft) : PyObject_GetAttrString(q, "popleft");
    if (popleft == NULL) {
        Py_DECREF(q);
        return NULL;
    }
    PyObject *own_popleft = PyObject_GetAttrString(own, "popleft");
    if (own_popleft == NULL) {
        Py_DECREF(q);
        Py_DECREF(popleft);
        return NULL;
    }
    Py_ssize_t left = drain_pass;
    while (left > 0) {
        PyObject *item;
        if (queue_length(own) > 0 && in_a_row < run_next_limit) {
            item = PyObject_CallNoArgs(own_popleft);
            if (item == NULL) {
                if (!PyErr_ExceptionMatches(PyExc_IndexError))
                    goto fail;
                PyErr_Clear(); /* the watchdog moved them to the shared deque meanwhile */
                continue;
            }
            in_a_row++;
        }
        else {
            item = queue_length(q) > 0 ? PyObject_CallNoArgs(popleft) : NULL;
            if (item == NULL) {
                if (PyErr_Occurred()) {
                    if (!PyErr_ExceptionMatches(PyExc_IndexError))
                        goto fail;
                    PyErr_Clear();
                }
                if (queue_length(own) <= 0)
                    break;
                in_a_row = 0; /* nothing shared waits: go on with our own */
                continue;
            }
            in_a_row = 0;
        }
        left--;
        set_slot(disp, d_current, item); /* the watchdog's "is it stuck?" */
        run_callback(item);
        Py_DECREF(item);
    }
    Py_DECREF(q);
    Py_DECREF(popleft);
    Py_DECREF(own_popleft);
    return PyLong_FromSsize_t(in_a_row);
fail:
    Py_DECREF(q);
    Py_DECREF(popleft);
    Py_DECREF(own_popleft);
    return NULL;
}

/* ---- batched datagram system calls (recvmmsg / sendmmsg) ----------------- */

/* The engine's batch loop (_engine/batch.py) decides everything: which queued operations go
   together, how each completes.  These two only make the system call for it and build what
   the socket module's single calls would have returned, so that the loop can complete each
   operation as its own attempt() would.  BATCH_MAX matches batch.LIMIT. */
#define BATCH_MAX 64

static long long batch_calls; /* recvmmsg/sendmmsg calls made, for the tests: the batch ran */
static PyObject *raw_family;  /* _socket.socket.family, the member descriptor */

/* An int argument (the flags), as the socket module reads it. */
static int
int_arg(PyObject *o, int *out)
{
    long v = PyLong_AsLong(o);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < INT_MIN || v > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "signed integer is greater than maximum");
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* What the socket module's makesockaddr() returns for an address the kernel reported: None
   for an empty one, (host, port) for IPv4, (host, port, flowinfo, scope_id) for IPv6, else
   (family, sa_data) as its fallback does. */
static PyObject *
make_sockaddr(const struct sockaddr_storage *ss, socklen_t len)
{
    char host[INET6_ADDRSTRLEN];
    if (len == 0)
        Py_RETURN_NONE;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        if (inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host)) == NULL)
            return PyErr_SetFromErrno(PyExc_OSError);
        return Py_BuildValue("(si)", host, ntohs(a->sin_port));
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        if (inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host)) == NULL)
            return PyErr_SetFromErrno(PyExc_OSError);
        return Py_BuildValue("(siII)", host, ntohs(a->sin6_port), (unsigned int)ntohl(a->sin6_flowinfo),
                             (unsigned int)a->sin6_scope_id);
    }
    const struct sockaddr *sa = (const struct sockaddr *)ss;
    return Py_BuildValue("(iy#)", sa->sa_family, sa->sa_data, (Py_ssize_t)sizeof(sa->sa_data));
}

/* A buffer the batch can use as the socket module's single call uses it: for a send, what
   sendto's "y*" takes; for a receive, a memoryview of bytes (len() then counts its bytes,
   what the ops pass as nbytes) that "w*" takes.  0 when it is not: the caller's loop then runs
   that operation's own call, which raises or succeeds exactly as it always did. */
static int
take_buffer(PyObject *o, Py_buffer *view, int writable)
{
    if (writable) {
        if (!PyMemoryView_Check(o))
            return 0;
        Py_buffer *mv = PyMemoryView_GET_BUFFER(o);
        if (mv->itemsize != 1 || mv->ndim > 1)
            return 0;
    }
    if (PyObject_GetBuffer(o, view, writable ? PyBUF_WRITABLE : PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

static void
release_buffers(Py_buffer *views, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        PyBuffer_Release(&views[i]);
}

/* Both primitives' (sock, list, flags) arguments: how many of the list one call takes, or -1
   with TypeError (or the flags' OverflowError) set. */
static Py_ssize_t
batch_args(PyObject *const *args, Py_ssize_t nargs, const char *usage, int *flags)
{
    if (nargs != 3 || !PyList_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, usage);
        return -1;
    }
    if (int_arg(args[2], flags) < 0)
        return -1;
    Py_ssize_t want = PyList_GET_SIZE(args[1]);
    return want > BATCH_MAX ? BATCH_MAX : want;
}

/* One message of a batch: the buffer's bytes, and where the address goes (or comes from). */
static void
set_message(struct mmsghdr *msg, struct iovec *iov, Py_buffer *view, struct sockaddr_storage *name, socklen_t namelen)
{
    iov->iov_base = view->buf;
    iov->iov_len = (size_t)view->len;
    memset(msg, 0, sizeof(*msg));
    msg->msg_hdr.msg_name = name;
    msg->msg_hdr.msg_namelen = namelen;
    msg->msg_hdr.msg_iov = iov;
    msg->msg_hdr.msg_iovlen = 1;
}

/* The system call of both primitives, the GIL released, retried after a signal as the socket
   module retries (PEP 475); the n buffers are released whatever happens.  Returns the kernel's
   result (-1 with *err set), or -2 with a Python exception set (a signal handler's).  The
   descriptor is read after the last Python code, as the socket module reads it per call. */
static int
mmsg_call(PyObject *sock, struct mmsghdr *msgs, Py_buffer *views, Py_ssize_t n, int flags, int send, int *err)
{
    int fd = PyObject_AsFileDescriptor(sock);
    int r = -2;
    while (fd >= 0) {
        Py_BEGIN_ALLOW_THREADS
        r = send ? sendmmsg(fd, msgs, (unsigned int)n, flags) : recvmmsg(fd, msgs, (unsigned int)n, flags, NULL);
        *err = errno;
        Py_END_ALLOW_THREADS
        if (r >= 0 || *err != EINTR)
            break;
        if (PyErr_CheckSignals() < 0) {
            r = -2;
            break;
        }
    }
    release_buffers(views, n);
    if (r != -2)
        __atomic_add_fetch(&batch_calls, 1, __ATOMIC_RELAXED);
    return r;
}

/* send_batch's system calls for a connected socket: one sendmsg per message, the GIL released
   around them all.  An error pending on a connected UDP socket (the ICMP port unreachable of an
   earlier datagram) fails the one send that meets it; sendmmsg drops an error met after its first
   message, so that message's operation would never hear of it.  Returns how many were sent, *err
   the errno of the message that failed (0: none did, or a signal came after some were sent: the
   rest are for a later call), or -2 with a Python exception set (a signal handler's, nothing
   sent).  The buffers are released whatever happens. */
static int
each_call(PyObject *sock, struct mmsghdr *msgs, Py_buffer *views, Py_ssize_t n, int flags, int *err)
{
    int fd = PyObject_AsFileDescriptor(sock);
    int sent = -2;
    *err = 0;
    while (fd >= 0) {
        Py_ssize_t i = sent < 0 ? 0 : sent;
        int e = 0;
        Py_BEGIN_ALLOW_THREADS
        for (; i < n; i++) {
            ssize_t r = sendmsg(fd, &msgs[i].msg_hdr, flags);
            if (r < 0) {
                e = errno;
                break;
            }
            msgs[i].msg_len = (unsigned int)r;
        }
        Py_END_ALLOW_THREADS
        sent = (int)i;
        if (e != EINTR) {
            *err = e;
            break;
        }
        if (i > 0)
            break; /* the handler runs at the caller's next check; what was sent is reported */
        if (PyErr_CheckSignals() < 0) {
            sent = -2;
            break;
        }
    }
    release_buffers(views, n);
    if (sent >= 0)
        __atomic_add_fetch(&batch_calls, 1, __ATOMIC_RELAXED);
    return sent;
}

/* Whether sock's descriptor is connected (a peer name to read). */
static int
is_connected(PyObject *sock)
{
    int fd = PyObject_AsFileDescriptor(sock);
    if (fd < 0) {
        PyErr_Clear();
        return 0;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    return getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
}

/* The (results, error) pair of both primitives. */
static PyObject *
batch_result(PyObject *list, int err)
{
    if (list == NULL)
        return NULL;
    if (err == 0)
        return Py_BuildValue("(NO)", list, Py_None);
    PyObject *exc = oserror_from_errno(err);
    if (exc == NULL) {
        Py_DECREF(list);
        return NULL;
    }
    return Py_BuildValue("(NN)", list, exc);
}

PyDoc_STRVAR(recv_batch_doc,
"recv_batch(sock, buffers, flags) -> (results, error)\n\n"
"One recvmmsg() on sock's descriptor for up to 64 buffers (memoryviews of bytes, each\n"
"filled by one datagram), the GIL released around it.  results holds, for the datagrams\n"
"received, in order, what sock.recvfrom_into(buffer, len(buffer), flags) would have\n"
"returned: (nbytes, address), nbytes being what the kernel reports (the bytes copied, or\n"
"the datagram's length when flags has MSG_TRUNC, exactly as recvfrom_into).  error is None,\n"
"or, when nothing was received, the OSError recvfrom_into would have raised\n"
"(BlockingIOError when no datagram is waiting).  ([], None) when buffers[0] is not a\n"
"buffer this call takes: the caller makes that operation's own call.  A buffer it cannot\n"
"take later in the list ends the batch before it.  An error after some datagrams is\n"
"reported by the kernel on the next call (recvmmsg keeps it as the socket's error).");

static PyObject *
recv_batch(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    int flags;
    Py_ssize_t want = batch_args(args, nargs, "recv_batch(sock, buffers: list, flags: int)", &flags);
    if (want < 0)
        return NULL;
    Py_buffer views[BATCH_MAX];
    struct iovec iov[BATCH_MAX];
    struct sockaddr_storage names[BATCH_MAX];
    struct mmsghdr msgs[BATCH_MAX];
    Py_ssize_t n = 0;
    for (; n < want; n++) {
        if (!take_buffer(PyList_GET_ITEM(args[1], n), &views[n], 1))
            break;
        set_message(&msgs[n], &iov[n], &views[n], &names[n], sizeof(names[n]));
    }
    if (n == 0)
        return batch_result(PyList_New(0), 0);
    int err, r = mmsg_call(args[0], msgs, views, n, flags, 0, &err);
    if (r == -2)
        return NULL;
    if (r < 0)
        return batch_result(PyList_New(0), err);
    PyObject *list = PyList_New(r);
    if (list == NULL)
        return NULL;
    for (int i = 0; i < r; i++) {
        PyObject *addr = make_sockaddr(&names[i], msgs[i].msg_hdr.msg_namelen);
        PyObject *item = addr == NULL ? NULL : Py_BuildValue("(nN)", (Py_ssize_t)msgs[i].msg_len, addr);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, item);
    }
    return batch_result(list, 0);
}

PyDoc_STRVAR(send_batch_doc,
"send_batch(sock, messages, flags) -> (results, error, allowed)\n\n"
"One sendmmsg() on sock's descriptor for up to 64 (buffer, address) pairs, the GIL released\n"
"around it; on a connected socket one sendmsg() per message instead (the GIL released around\n"
"them all), so that an error pending on the socket (an ICMP error) fails the message that\n"
"meets it, as its own send would.  address None sends on the connected socket (what\n"
"sock.send does); otherwise it is a numeric address tuple of sock's family, of the shape\n"
"recvfrom returns, and the 'socket.sendto' audit event is raised for it before anything is\n"
"sent, as sock.sendto does.  results holds the byte count of each message sent, in order.\n"
"error is None, or what message len(results)'s own send would have raised: its OSError\n"
"(BlockingIOError when the socket buffer is full and nothing was sent), or the exception an\n"
"audit hook raised for it (that message is not sent; those before it are).  ([], None) when\n"
"the first message is not one this call takes (another buffer, a name to resolve): the\n"
"caller makes that operation's own call, which behaves as it always did.  Such a message\n"
"later in the list ends the batch before it.  Fewer results than messages and no error: the\n"
"kernel stopped there (a full buffer; on an unconnected socket an error it does not report\n"
"after a message has left, which the message's next call meets again); the rest, and the\n"
"verdict of an audit hook on a later message, are for a later call.  allowed: how many\n"
"leading messages were made ready for the call (their audit event raised and not refused):\n"
"those from len(results) on were not sent.  A message (buffer, address, True) is one the\n"
"hooks allowed in an earlier call: sent without asking them again.");

/* send_batch's work: the (results, error) pair; *allowed as send_batch says. */
static PyObject *
send_batch_pair(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t *allowed)
{
    int flags;
    Py_ssize_t want = batch_args(args, nargs, "send_batch(sock, messages: list, flags: int)", &flags);
    if (want < 0)
        return NULL;
    PyObject *sock = args[0];
    /* The C socket's family member, as an int: socket.socket's own "family" builds an enum. */
    if (raw_family == NULL) {
        PyObject *mod = PyImport_ImportModule("_socket");
        PyObject *type = mod == NULL ? NULL : PyObject_GetAttrString(mod, "socket");
        raw_family = type == NULL ? NULL : PyObject_GetAttrString(type, "family");
        Py_XDECREF(type);
        Py_XDECREF(mod);
        if (raw_family == NULL)
            return NULL;
    }
    if (Py_TYPE(raw_family)->tp_descr_get == NULL) {
        PyErr_SetString(PyExc_TypeError, "_socket.socket.family is not a descriptor");
        return NULL;
    }
    PyObject *fam = Py_TYPE(raw_family)->tp_descr_get(raw_family, sock, NULL);
    if (fam == NULL)
        return NULL;
    int family;
    int bad = int_arg(fam, &family);
    Py_DECREF(fam);
    if (bad < 0)
        return NULL;
    Py_buffer views[BATCH_MAX];
    struct iovec iov[BATCH_MAX];
    struct sockaddr_storage names[BATCH_MAX];
    struct mmsghdr msgs[BATCH_MAX];
    Py_ssize_t n = 0;
    PyObject *refused = NULL; /* what an audit hook raised for message n, which ends the batch */
    for (; n < want; n++) {
        PyObject *item = PyList_GET_ITEM(args[1], n);
        Py_ssize_t size = PyTuple_CheckExact(item) ? PyTuple_GET_SIZE(item) : 0;
        if (size != 2 && size != 3)
            break;
        int allowed_before = size == 3 && PyTuple_GET_ITEM(item, 2) == Py_True;
        PyObject *addr = PyTuple_GET_ITEM(item, 1);
        socklen_t alen = 0;
        /* In sendto's order: the buffer, the address, then the audit event. */
        if (!take_buffer(PyTuple_GET_ITEM(item, 0), &views[n], 0))
            break;
        if (addr != Py_None) {
            /* Only the tuple shape of the socket's own family: sendto reads a tuple by the
               socket's family, and anything else takes its own path. */
            int ok = PyTuple_CheckExact(addr) && PyTuple_GET_SIZE(addr) == (family == AF_INET6 ? 4 : 2) &&
                     (family == AF_INET || family == AF_INET6) && parse_sockaddr(addr, &names[n], &alen);
            if (ok && !allowed_before && PySys_Audit("socket.sendto", "OO", sock, addr) < 0) {
                /* The hook was asked once: its answer is this message's outcome, not a
                   reason to ask it again in the message's own call. */
                refused = fetch_exception();
                ok = 0;
            }
            if (!ok) {
                PyBuffer_Release(&views[n]);
                break;
            }
        }
        set_message(&msgs[n], &iov[n], &views[n], addr != Py_None ? &names[n] : NULL, alen);
    }
    *allowed = n;
    if (n == 0) {
        if (refused != NULL)
            return Py_BuildValue("(NN)", PyList_New(0), refused);
        return batch_result(PyList_New(0), 0);
    }
    int err = 0, r;
    int connected = is_connected(sock);
    if (connected)
        r = each_call(sock, msgs, views, n, flags, &err);
    else
        r = mmsg_call(sock, msgs, views, n, flags, 1, &err);
    if (r == -2) {
        Py_XDECREF(refused);
        return NULL;
    }
    if (r < 0 || (r == 0 && err != 0)) {
        Py_XDECREF(refused);
        return batch_result(PyList_New(0), err);
    }
    PyObject *list = PyList_New(r);
    if (list == NULL) {
        Py_XDECREF(refused);
        return NULL;
    }
    for (int i = 0; i < r; i++) {
        PyObject *count = PyLong_FromUnsignedLong(msgs[i].msg_len);
        if (count == NULL) {
            Py_DECREF(list);
            Py_XDECREF(refused);
            return NULL;
        }
        PyList_SET_ITEM(list, i, count);
    }
    if (r == n && refused != NULL)
        return Py_BuildValue("(NN)", list, refused);
    Py_XDECREF(refused);
    /* each_call's error for message r, after some left (EAGAIN: the kernel stopped short). */
    if (connected && r < n && err != 0 && err != EAGAIN && err != EWOULDBLOCK)
        return batch_result(list, err);
    return batch_result(list, 0);
}

static PyObject *
send_batch(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t allowed = 0;
    PyObject *pair = send_batch_pair(args, nargs, &allowed);
    if (pair == NULL)
        return NULL;
    PyObject *res = Py_BuildValue("(OOn)", PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1), allowed);
    Py_DECREF(pair);
    return res;
}

static PyObject *
batch_call_count(PyObject *module, PyObject *unused)
{
    return PyLong_FromLongLong(__atomic_load_n(&batch_calls, __ATOMIC_RELAXED));
}

/* ---- Close, Dispose and __del__ ---------------------------------------------- */

/* Socket.Close() and Socket.Dispose() with tracing off: socket._dispose's steps in its order
   (disposed, then disconnected if connected, then the OpQueue's close, then the Unix domain
   socket file through socket._unlink_file), without the two frames of Close and _dispose.
   Close(timeout), a class whose Dispose is its own, and anything the slots do not show plainly
   go to the Python methods.  Filled by configure_dispose(), after configure(). */

static Py_ssize_t s_connected, s_disconnected, s_unlink_path; /* SocketCore */
static PyObject *dispose_method;                              /* Socket.Dispose as installed */
static PyObject *unlink_file;                                 /* socket._unlink_file */
static PyObject *str_close, *str_dispose;
static int dispose_configured = 0;
static PyObject *collecting_dict, *str_collector; /* _engine.collecting's globals, "_collector" */

/* Whether this thread runs a garbage collection (_engine.collecting.collecting()'s twin): a
   finalizer's Close is then the Python method's, which takes no lock. */
static int
collecting_here(void)
{
    PyObject *who = PyDict_GetItemWithError(collecting_dict, str_collector); /* borrowed */
    if (who == NULL || !PyLong_CheckExact(who)) {
        PyErr_Clear();
        return 0;
    }
    unsigned long id = PyLong_AsUnsignedLong(who);
    if (id == (unsigned long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return id != 0 && id == PyThread_get_thread_ident();
}

/* NULL without an error: the Python method runs (nothing has been changed yet). */
static PyObject *
dispose_steady(PyObject *self)
{
    PyObject *disposed = SLOT(self, s_disposed);
    PyObject *connected = SLOT(self, s_connected);
    PyObject *io = SLOT(self, s_io);
    if (disposed == NULL || connected == NULL || io == NULL || SLOT(self, s_unlink_path) == NULL ||
        !PyBool_Check(disposed) || !PyBool_Check(connected))
        return NULL;
    if (disposed == Py_True)
        Py_RETURN_NONE;
    set_slot(self, s_disposed, Py_True);
    if (connected == Py_True) {
        set_slot(self, s_connected, Py_False);
        set_slot(self, s_disconnected, Py_True);
    }
    Py_INCREF(io);
    PyObject *r = PyObject_CallMethodNoArgs(io, str_close);
    Py_DECREF(io);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    PyObject *path = SLOT(self, s_unlink_path);
    if (path != NULL && path != Py_None)
        return PyObject_CallOneArg(unlink_file, self);
    Py_RETURN_NONE;
}

static PyObject *
fast_dispose(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 0 || !dispose_configured || !is_socket(self) || tracing_enabled() || collecting_here())
        return NULL;
    return dispose_steady(self);
}

static PyObject *
fast_close(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    /* Close's own test, type(self).Dispose is _DISPOSE, read as the type's attribute lookup
       reads it for a class without a metaclass of its own. */
    if (nargs != 0 || !dispose_configured || !is_socket(self) || !Py_IS_TYPE(Py_TYPE(self), &PyType_Type) ||
        _PyType_Lookup(Py_TYPE(self), str_dispose) != dispose_method || tracing_enabled() || collecting_here())
        return NULL;
    return dispose_steady(self);
}

/* Socket.__del__ of a disposed socket (every socket closed before it is collected): nothing to
   do, without the Python frame; anything else (not disposed, a constructor that failed before
   the slot was set) is the Python __del__'s. */
static PyObject *
fast_del(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 0 || !dispose_configured || !is_socket(self) || SLOT(self, s_disposed) != Py_True)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
configure_dispose(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "configure_dispose(Dispose, unlink_file, collecting_globals)");
        return NULL;
    }
    if (!configured || SocketCoreType == NULL) {
        PyErr_SetString(PyExc_TypeError, "configure_dispose() before configure()");
        return NULL;
    }
    dispose_configured = 0;
    if ((s_connected = slot_offset(SocketCoreType, "_connected")) < 0 ||
        (s_disconnected = slot_offset(SocketCoreType, "_disconnected")) < 0 ||
        (s_unlink_path = slot_offset(SocketCoreType, "_unlink_path")) < 0)
        return NULL;
    if ((str_close == NULL && (str_close = PyUnicode_InternFromString("close")) == NULL) ||
        (str_dispose == NULL && (str_dispose = PyUnicode_InternFromString("Dispose")) == NULL) ||
        (str_collector == NULL && (str_collector = PyUnicode_InternFromString("_collector")) == NULL))
        return NULL;
    Py_XSETREF(dispose_method, Py_NewRef(args[0]));
    Py_XSETREF(unlink_file, Py_NewRef(args[1]));
    Py_XSETREF(collecting_dict, Py_NewRef(args[2]));
    dispose_configured = 1;
    Py_RETURN_NONE;
}

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
    OFF(lwt_fut, LoopWaiterType, "fut");
    if (str_set_result == NULL && (str_set_result = PyUnicode_InternFromString("set_result")) == NULL)
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

/* ---- OpQueue: the steady states of enqueue and on_ready ------------------- */

/* opqueue.OpQueue.enqueue and .on_ready (with _drain's single-call loop) for their common
   case, as FastMethods on OpQueue: the slots stay OpQueue's __slots__ (read here at their
   offsets, as Python reads them), the lock is the queue's own threading.Lock, taken and
   let go through its type's acquire/release, and every rare turn is Python's: a Waiter
   (parking, _pass_on), a closed queue, a batch that may start (opqueue._drain, from where
   this loop stopped), an attempt that raises (_broken), a failed arm (_unwatchable,
   OpQueue._arm_failed), a head that would block after others finished (_drained_singly).
   engine.arm's common case (registered, thread running: one epoll.modify) is made here;
   anything else calls engine.arm.  Not taken (the Python method runs instead): another
   lock type, another queue type, a non-deque queue, an operation without the compiled core. */

static int queue_configured = 0;
static Py_ssize_t q_lock, q_rpark, q_wpark, q_mask, q_registered, q_batches;
static PyTypeObject *LockType, *WaiterType;
static PyObject *lock_acquire, *lock_release;   /* _thread.lock.acquire / .release */
static PyObject *deque_append, *deque_popleft;  /* collections.deque.append / .popleft */
static PyObject *q_engine, *q_engine_dict;      /* _engine.epoll.engine and its __dict__ */
static PyObject *q_engine_arm;                  /* Engine.arm, the function */
static PyObject *q_drain_py, *q_broken, *q_unwatchable, *q_settle, *q_drained_singly;
static PyObject *str_arm, *str_ep_attr, *str_thread_attr, *str_modify, *str_attempt, *str_batch_kind,
    *str_pass_on, *str_arm_failed;
static long q_epollin, q_epollout, q_oneshot;
static long q_readable_bits, q_writable_bits; /* epoll._READABLE / _WRITABLE */
static PyObject *str_regs, *str_on_ready;
static Py_ssize_t q_min_run;

static inline int
q_acquire(PyObject *lock)
{
    PyObject *r = PyObject_Vectorcall(lock_acquire, &lock, 1, NULL);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Let go of the lock, keeping an exception being raised (as "with" does). */
static inline int
q_release(PyObject *lock)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *r = PyObject_Vectorcall(lock_release, &lock, 1, NULL);
    if (r == NULL) {
        if (type == NULL)
            return -1;
        PyErr_Clear(); /* the first exception wins, as "with" reports it */
    }
    Py_XDECREF(r);
    PyErr_Restore(type, value, tb);
    return type == NULL ? 0 : -1;
}

/* An operation's _ctx (new reference), or NULL with AttributeError as the slot raises. */
static inline PyObject *
q_op_ctx(PyObject *op)
{
    if (PyObject_TypeCheck(op, &OpCoreType) && ((OpCore *)op)->ctx != NULL)
        return Py_NewRef(((OpCore *)op)->ctx);
    return PyObject_GetAttr(op, str_ctx);
}

/* isinstance(ctx, Waiter): 1, 0, -1.  A callback's Context and None are the common answers. */
static inline int
q_is_waiter(PyObject *ctx)
{
    if (ctx == Py_None || PyContext_CheckExact(ctx))
        return 0;
    return PyObject_IsInstance(ctx, (PyObject *)WaiterType);
}

/* engine.arm(io, mask), lock held. */
static int
q_arm(PyObject *io, long mask)
{
    PyObject *r;
    if (SLOT(io, q_registered) == Py_True && PyLong_CheckExact(SLOT(io, q_fd))) {
        PyObject *thread = PyDict_GetItemWithError(q_engine_dict, str_thread_attr);
        PyObject *ep = thread == NULL ? NULL : PyDict_GetItemWithError(q_engine_dict, str_ep_attr);
        if (ep != NULL && thread != Py_None && PyDict_GetItemWithError(q_engine_dict, str_arm) == NULL &&
            !PyErr_Occurred() && _PyType_Lookup(Py_TYPE(q_engine), str_arm) == q_engine_arm) {
            /* Engine.arm on a registered descriptor with the thread running: one modify. */
            PyObject *m = PyLong_FromLong(mask | q_oneshot);
            if (m == NULL)
                return -1;
            PyObject *args[3] = {Py_NewRef(ep), Py_NewRef(SLOT(io, q_fd)), m};
            r = PyObject_VectorcallMethod(str_modify, args, 3, NULL);
            Py_DECREF(args[0]);
            Py_DECREF(args[1]);
            Py_DECREF(m);
            if (r == NULL)
                return -1;
            Py_DECREF(r);
            return 0;
        }
        if (PyErr_Occurred())
            return -1;
    }
    PyObject *m = PyLong_FromLong(mask);
    if (m == NULL)
        return -1;
    r = PyObject_CallMethodObjArgs(q_engine, str_arm, io, m, NULL);
    Py_DECREF(m);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Call f(a, b[, c]) for a helper and drop its result: 0, or -1 with its exception. */
static int
q_call(PyObject *f, PyObject *a, PyObject *b, PyObject *c)
{
    PyObject *args[3] = {a, b, c};
    PyObject *r = PyObject_Vectorcall(f, args, c == NULL ? 2 : 3, NULL);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* "except Exception as exc: f(x, exc)": 0 when handled, -1 when the exception (or f's) goes on. */
static int
q_handle(PyObject *f, PyObject *x)
{
    if (!PyErr_ExceptionMatches(PyExc_Exception))
        return -1;
    PyObject *exc = fetch_exception();
    if (exc == NULL)
        return -1;
    int rc = q_call(f, x, exc, NULL);
    if (rc < 0)
        chain_raised(exc);
    Py_DECREF(exc);
    return rc;
}

/* opqueue._drain for queue q of io, lock held: 0, or -1 with an exception. */
static int
q_drain(PyObject *q, PyObject *done, PyObject *io)
{
    Py_ssize_t singles = 0;
    while (Py_SIZE(q) > 0) {
        PyObject *head = PySequence_GetItem(q, 0);
        if (head == NULL)
            return -1;
        PyObject *ctx = q_op_ctx(head);
        int w = ctx == NULL ? -1 : q_is_waiter(ctx);
        Py_XDECREF(ctx);
        if (w != 0) {
            Py_DECREF(head);
            return w < 0 ? -1 : 0; /* its own waiter makes its call */
        }
        PyObject *kind = PyObject_GetAttr(head, str_batch_kind);
        int k = kind == NULL ? -1 : PyObject_IsTrue(kind);
        if (k < 0) {
            Py_DECREF(head);
            Py_XDECREF(kind);
            return -1;
        }
        if (k && SLOT(io, q_batches) != Py_False && Py_SIZE(q) >= q_min_run) {
            /* A batch may start here: Python's loop goes on from this very point. */
            Py_DECREF(head);
            Py_DECREF(kind);
            PyObject *n = PyLong_FromSsize_t(singles);
            if (n == NULL)
                return -1;
            PyObject *args[4] = {q, done, io, n};
            PyObject *r = PyObject_Vectorcall(q_drain_py, args, 4, NULL);
            Py_DECREF(n);
            if (r == NULL)
                return -1;
            Py_DECREF(r);
            return 0;
        }
        PyObject *r = PyObject_CallMethodNoArgs(head, str_attempt);
        int t = r == NULL ? -1 : PyObject_IsTrue(r);
        Py_XDECREF(r);
        if (t < 0) {
            if (q_handle(q_broken, head) < 0) {
                Py_DECREF(head);
                Py_DECREF(kind);
                return -1;
            }
        }
        else if (t == 0) {
            int rc = 0;
            if (singles) {
                PyObject *n = PyLong_FromSsize_t(singles);
                rc = n == NULL ? -1 : q_call(q_drained_singly, io, kind, n);
                Py_XDECREF(n);
            }
            Py_DECREF(head);
            Py_DECREF(kind);
            return rc;
        }
        Py_DECREF(head);
        Py_DECREF(kind);
        PyObject *op = PyObject_Vectorcall(deque_popleft, &q, 1, NULL);
        if (op == NULL)
            return -1;
        int rc = PyList_Append(done, op);
        Py_DECREF(op);
        if (rc < 0)
            return -1;
        singles++;
    }
    return 0;
}

/* on_ready's "if q: self._pass_on(q, bit, False)": only a waiting head has something to do. */
static int
q_pass_on_unarmed(PyObject *io, PyObject *q, long bit)
{
    if (Py_SIZE(q) == 0)
        return 0;
    PyObject *head = PySequence_GetItem(q, 0);
    if (head == NULL)
        return -1;
    PyObject *ctx = q_op_ctx(head);
    Py_DECREF(head);
    int w = ctx == NULL ? -1 : q_is_waiter(ctx);
    Py_XDECREF(ctx);
    if (w <= 0)
        return w;
    PyObject *b = PyLong_FromLong(bit);
    if (b == NULL)
        return -1;
    PyObject *args[4] = {io, q, b, Py_False};
    PyObject *r = PyObject_VectorcallMethod(str_pass_on, args, 4, NULL);
    Py_DECREF(b);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* The queue's lock (a new reference) when the fast paths can take it, else NULL (no error). */
static inline PyObject *
q_lock_of(PyObject *self)
{
    if (!queue_configured || !Py_IS_TYPE(self, OpQueueType))
        return NULL;
    PyObject *lock = SLOT(self, q_lock);
    if (lock == NULL || !Py_IS_TYPE(lock, LockType))
        return NULL;
    return Py_NewRef(lock);
}

/* OpQueue.enqueue(op, write=False). */
static PyObject *
fast_q_enqueue(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2)
        return NOT_TAKEN;
    PyObject *op = args[0], *write = nargs == 2 ? args[1] : Py_False;
    if ((write != Py_True && write != Py_False) || !PyObject_TypeCheck(op, &OpCoreType))
        return NOT_TAKEN;
    int w = write == Py_True;
    PyObject *lock = q_lock_of(self);
    if (lock == NULL)
        return NOT_TAKEN;
    if (q_acquire(lock) < 0) {
        Py_DECREF(lock);
        return NULL;
    }
    /* Read under the lock, as the Python method reads them. */
    PyObject *q = SLOT(self, w ? q_wq : q_rq), *mask = SLOT(self, q_mask), *park = SLOT(self, w ? q_wpark : q_rpark);
    PyObject *ctx = ((OpCore *)op)->ctx;
    if (SLOT(self, q_closed) != Py_False || q == NULL || !Py_IS_TYPE(q, DequeType) || mask == NULL ||
        !PyLong_CheckExact(mask) || park == NULL || ctx == NULL || !(ctx == Py_None || PyContext_CheckExact(ctx))) {
        /* Closed (for good), a waiter, anything unusual: the Python method, from the start. */
        int rc = q_release(lock);
        Py_DECREF(lock);
        return rc < 0 ? NULL : NOT_TAKEN;
    }
    long bit = w ? q_epollout : q_epollin, m = PyLong_AsLong(mask);
    if (m == -1 && PyErr_Occurred()) {
        q_release(lock);
        Py_DECREF(lock);
        return NULL;
    }
    Py_INCREF(q);
    int rc = 0;
    if ((m & bit) || park != Py_None) {
        PyObject *a[2] = {q, op};
        PyObject *r = PyObject_Vectorcall(deque_append, a, 2, NULL);
        rc = r == NULL ? -1 : 0;
        Py_XDECREF(r);
    }
    else if (q_arm(self, m | bit) < 0) {
        /* _unwatchable under the lock; the operation completes once the lock is let go. */
        rc = q_handle(q_unwatchable, op);
        if (rc == 0) {
            Py_DECREF(q);
            rc = q_release(lock);
            Py_DECREF(lock);
            if (rc < 0)
                return NULL;
            PyObject *r = PyObject_CallOneArg(q_settle, op);
            return r;
        }
    }
    else {
        PyObject *nm = PyLong_FromLong(m | bit);
        if (nm == NULL)
            rc = -1;
        else {
            set_slot_steal(self, q_mask, nm);
            PyObject *a[2] = {q, op};
            PyObject *r = PyObject_Vectorcall(deque_append, a, 2, NULL);
            rc = r == NULL ? -1 : 0;
            Py_XDECREF(r);
        }
    }
    Py_DECREF(q);
    if (q_release(lock) < 0)
        rc = -1;
    Py_DECREF(lock);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

/* OpQueue.on_ready(readable, writable): the engine thread's (or serve_ready's) round. */
static PyObject *
fast_q_on_ready(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || (args[0] != Py_True && args[0] != Py_False) || (args[1] != Py_True && args[1] != Py_False))
        return NOT_TAKEN;
    int readable = args[0] == Py_True, writable = args[1] == Py_True;
    PyObject *lock = q_lock_of(self);
    if (lock == NULL)
        return NOT_TAKEN;
    if (q_acquire(lock) < 0) {
        Py_DECREF(lock);
        return NULL;
    }
    PyObject *closed = SLOT(self, q_closed), *rq = SLOT(self, q_rq), *wq = SLOT(self, q_wq);
    if (closed != Py_False || rq == NULL || wq == NULL || !Py_IS_TYPE(rq, DequeType) || !Py_IS_TYPE(wq, DequeType) ||
        SLOT(self, q_rpark) == NULL || SLOT(self, q_wpark) == NULL) {
        int rc = q_release(lock);
        Py_DECREF(lock);
        if (rc < 0)
            return NULL;
        return closed == Py_True ? Py_NewRef(Py_None) : NOT_TAKEN;
    }
    Py_INCREF(rq);
    Py_INCREF(wq);
    PyObject *done = PyList_New(0);
    int rc = done == NULL ? -1 : 0;
    if (rc == 0 && readable && SLOT(self, q_rpark) == Py_None) {
        rc = q_drain(rq, done, self);
        if (rc == 0)
            rc = q_pass_on_unarmed(self, rq, q_epollin);
    }
    if (rc == 0 && writable && SLOT(self, q_wpark) == Py_None) {
        rc = q_drain(wq, done, self);
        if (rc == 0)
            rc = q_pass_on_unarmed(self, wq, q_epollout);
    }
    if (rc == 0) {
        /* The report disarmed the descriptor (one-shot): re-arm only for what the engine serves. */
        PyObject *rpark = SLOT(self, q_rpark), *wpark = SLOT(self, q_wpark);
        long mask = (Py_SIZE(rq) > 0 && rpark == Py_None ? q_epollin : 0) |
                    (Py_SIZE(wq) > 0 && wpark == Py_None ? q_epollout : 0);
        PyObject *m = PyLong_FromLong(mask);
        if (m == NULL)
            rc = -1;
        else {
            set_slot_steal(self, q_mask, m);
            if (mask && q_arm(self, mask) < 0) {
                if (!PyErr_ExceptionMatches(PyExc_Exception))
                    rc = -1;
                else {
                    PyObject *exc = fetch_exception();
                    PyObject *a[3] = {self, done, exc};
                    PyObject *r = exc == NULL ? NULL : PyObject_VectorcallMethod(str_arm_failed, a, 3, NULL);
                    if (r == NULL) {
                        rc = -1;
                        if (exc != NULL)
                            chain_raised(exc);
                    }
                    Py_XDECREF(r);
                    Py_XDECREF(exc);
                }
            }
        }
    }
    Py_DECREF(rq);
    Py_DECREF(wq);
    if (q_release(lock) < 0)
        rc = -1;
    Py_DECREF(lock);
    if (rc < 0) {
        Py_XDECREF(done);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(done); i++) {
        PyObject *op = PyList_GET_ITEM(done, i);
        PyObject *r = PyObject_CallMethodOneArg(op, str_complete, Py_False);
        if (r != NULL) {
            Py_DECREF(r);
            continue;
        }
        if (!PyErr_ExceptionMatches(PyExc_Exception)) {
            Py_DECREF(done);
            return NULL;
        }
        PyObject *exc = fetch_exception();
        r = exc == NULL ? NULL : PyObject_CallOneArg(report_exception, exc);
        if (r == NULL && exc != NULL)
            chain_raised(exc);
        Py_XDECREF(exc);
        if (r == NULL) {
            Py_DECREF(done);
            return NULL;
        }
        Py_DECREF(r);
    }
    Py_DECREF(done);
    Py_RETURN_NONE;
}

static int
q_take_long(PyObject *cfg, const char *key, long *out)
{
    PyObject *v = PyDict_GetItemString(cfg, key);
    if (v == NULL || !PyLong_Check(v)) {
        PyErr_Format(PyExc_KeyError, "configure_queue: %s must be an int", key);
        return -1;
    }
    *out = PyLong_AsLong(v);
    return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

#define Q_INTERN(var, text)                                                                                       \
    if (var == NULL && (var = PyUnicode_InternFromString(text)) == NULL)                                           \
        return NULL;

/* configure_queue(dict), after configure(): what the queue's fast paths call and read. */
static PyObject *
configure_queue(PyObject *module, PyObject *cfg)
{
    if (!PyDict_Check(cfg) || !configured) {
        PyErr_SetString(PyExc_TypeError, "configure_queue(dict), after configure()");
        return NULL;
    }
    queue_configured = 0;
    long min_run;
    if (take_type(cfg, "Lock", &LockType) || take_type(cfg, "Waiter", &WaiterType) ||
        take_obj(cfg, "engine", &q_engine) || take_obj(cfg, "drain", &q_drain_py) ||
        take_obj(cfg, "broken", &q_broken) || take_obj(cfg, "unwatchable", &q_unwatchable) ||
        take_obj(cfg, "settle", &q_settle) || take_obj(cfg, "drained_singly", &q_drained_singly) ||
        q_take_long(cfg, "EPOLLIN", &q_epollin) || q_take_long(cfg, "EPOLLOUT", &q_epollout) ||
        q_take_long(cfg, "ONESHOT", &q_oneshot) || q_take_long(cfg, "MIN_RUN", &min_run) ||
        q_take_long(cfg, "READABLE", &q_readable_bits) || q_take_long(cfg, "WRITABLE", &q_writable_bits))
        return NULL;
    q_min_run = min_run;
    if (q_min_run < 2) {
        /* One queued operation is never a batch: the loop here relies on it. */
        PyErr_SetString(PyExc_ValueError, "configure_queue: MIN_RUN must be at least 2");
        return NULL;
    }
    OFF(q_lock, OpQueueType, "lock");
    OFF(q_rpark, OpQueueType, "rpark");
    OFF(q_wpark, OpQueueType, "wpark");
    OFF(q_mask, OpQueueType, "mask");
    OFF(q_registered, OpQueueType, "registered");
    OFF(q_batches, OpQueueType, "batches");
    Q_INTERN(str_arm, "arm");
    Q_INTERN(str_ep_attr, "_ep");
    Q_INTERN(str_thread_attr, "_thread");
    Q_INTERN(str_modify, "modify");
    Q_INTERN(str_attempt, "attempt");
    Q_INTERN(str_batch_kind, "batch_kind");
    Q_INTERN(str_pass_on, "_pass_on");
    Q_INTERN(str_arm_failed, "_arm_failed");
    Q_INTERN(str_regs, "_regs");
    Q_INTERN(str_on_ready, "on_ready");
    Py_XSETREF(q_engine_dict, PyObject_GenericGetDict(q_engine, NULL));
    if (q_engine_dict == NULL)
        return NULL;
    PyObject *arm = _PyType_Lookup(Py_TYPE(q_engine), str_arm);
    if (arm == NULL || !PyFunction_Check(arm)) {
        PyErr_SetString(PyExc_TypeError, "configure_queue: the engine's type has no arm function");
        return NULL;
    }
    Py_XSETREF(q_engine_arm, Py_NewRef(arm));
    Py_XSETREF(lock_acquire, PyObject_GetAttrString((PyObject *)LockType, "acquire"));
    Py_XSETREF(lock_release, PyObject_GetAttrString((PyObject *)LockType, "release"));
    Py_XSETREF(deque_append, PyObject_GetAttrString((PyObject *)DequeType, "append"));
    Py_XSETREF(deque_popleft, PyObject_GetAttrString((PyObject *)DequeType, "popleft"));
    if (!lock_acquire || !lock_release || !deque_append || !deque_popleft)
        return NULL;
    queue_configured = 1;
    Py_RETURN_NONE;
}

/* Engine._serve(events): each (fd, events) pair's owner in engine._regs gets on_ready(readable,
   writable), through its type's on_ready (the compiled one for a queue, whatever a test put
   there, the reaper's and the bell's); an Exception is reported, never stops the loop. */
static PyObject *
fast_engine_serve(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1 || !PyList_CheckExact(args[0]) || self != q_engine)
        return NOT_TAKEN;
    PyObject *events = args[0];
    PyObject *regs = PyDict_GetItemWithError(q_engine_dict, str_regs);
    if (regs == NULL || !PyDict_CheckExact(regs))
        return PyErr_Occurred() ? NULL : NOT_TAKEN;
    Py_INCREF(regs);
    Py_INCREF(events);
    PyObject *res = Py_None;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(events); i++) {
        PyObject *pair = PyList_GET_ITEM(events, i);
        long ev;
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2 || !PyLong_CheckExact(PyTuple_GET_ITEM(pair, 1)) ||
            ((ev = PyLong_AsLong(PyTuple_GET_ITEM(pair, 1))) == -1 && PyErr_Occurred())) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "Engine._serve: events must be (fd, mask) pairs");
            res = NULL;
            break;
        }
        PyObject *q = PyDict_GetItemWithError(regs, PyTuple_GET_ITEM(pair, 0));
        if (q == NULL) {
            if (PyErr_Occurred()) {
                res = NULL;
                break;
            }
            continue;
        }
        Py_INCREF(q);
        PyObject *a[3] = {q, (ev & q_readable_bits) ? Py_True : Py_False, (ev & q_writable_bits) ? Py_True : Py_False};
        PyObject *r = PyObject_VectorcallMethod(str_on_ready, a, 3, NULL);
        Py_DECREF(q);
        if (r != NULL) {
            Py_DECREF(r);
            continue;
        }
        if (!PyErr_ExceptionMatches(PyExc_Exception)) {
            res = NULL;
            break;
        }
        PyObject *exc = fetch_exception();
        r = exc == NULL ? NULL : PyObject_CallOneArg(report_exception, exc);
        if (r == NULL && exc != NULL)
            chain_raised(exc);
        Py_XDECREF(exc);
        if (r == NULL) {
            res = NULL;
            break;
        }
        Py_DECREF(r);
    }
    Py_DECREF(events);
    Py_DECREF(regs);
    return res == NULL ? NULL : Py_NewRef(Py_None);
}

/* method(kind, fallback): the accelerated method named ``kind``, falling back on ``fallback`` (the
   Python function, which also gives it its name, signature and docstring). */
static const struct {
    const char *kind;
    fastfunc f;
} fast_kinds[] = {
    {"BeginSendTo", fast_begin_send_to},
    {"EndSendTo", fast_end_send_to},
    {"SendTo", fast_send_to},
    {"SendToAsync", fast_send_to_async},
    {"Send", fast_send},
    {"Receive", fast_receive},
    {"BeginSend", fast_begin_send},
    {"EndSend", fast_end_send},
    {"BeginReceive", fast_begin_receive},
    {"EndReceive", fast_end_receive},
    {"BeginReceiveFrom", fast_begin_receive_from},
    {"EndReceiveFrom", fast_end_receive_from},
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
        if (fast_kinds[i].f == fast_send_to)
            Py_XSETREF(sendto_python, Py_NewRef(fallback));
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
    {"set_suppressing", set_suppressing, METH_O, "The number of threads that suppress ExecutionContext flow."},
    {"counts", counts, METH_NOARGS, "(bytes_sent, datagrams_sent, bytes_received, datagrams_received) of the calls made here."},
    {"recv_batch", (PyCFunction)(void (*)(void))recv_batch, METH_FASTCALL, recv_batch_doc},
    {"send_batch", (PyCFunction)(void (*)(void))send_batch, METH_FASTCALL, send_batch_doc},
    {"batch_calls", batch_call_count, METH_NOARGS, "The recvmmsg/sendmmsg calls recv_batch and send_batch made."},
    {"configure_queue", configure_queue, METH_O, "configure_queue(dict): what OpQueue's fast paths call and read."},
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
    if (m != NULL && (PyModule_AddIntConstant(m, "INTERFACE", 12) < 0 ||
                      PyModule_AddObjectRef(m, "SendToAsyncAwaitable", (PyObject *)&SendNowType) < 0))
        Py_CLEAR(m);
    return m;
}
