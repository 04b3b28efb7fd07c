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
