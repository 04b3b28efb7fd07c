/* ---- synchronous ReceiveFrom on a datagram socket ---- */

/* The twin of SocketTransfer.ReceiveFrom's steady state: ReceiveFrom(buffer, remote_ep) and
   ReceiveFrom(buffer, offset, size, socket_flags, remote_ep) into a bytearray, arguments as
   _checks.steady_range takes them, remote_ep an IPEndPoint, on an open datagram socket with no
   receive queued and tracing off (_receive_from_steady), and of the wait that follows a
   would-block (_receive_from_wait: the operation parked in the socket's queue, its thread
   polling the descriptor as _engine.syncwait.wait does, so that a Close from another thread
   wakes it the same way).  What it does not take goes to the Python function, which keeps
   every rule: an endpoint the plain check does not pass (_check_receive_ep raises), an error
   (_wait_sync says what), a non-blocking socket, a receive queued behind others. */

#include <poll.h>
#include <time.h>

static int sd_configured;
static PyTypeObject *sd_ThreadWaiterType, *sd_IPAddressType;
static PyObject *sd_waiters;            /* syncwait.waiters (a threading.local) */
static PyObject *sd_thread_waiter;      /* syncwait.thread_waiter */
static PyObject *sd_wait_on_handle;     /* syncwait._wait_on_handle: a wait the engine serves */
static PyObject *sd_receive_from_wait;  /* SocketTransfer._receive_from_wait */
static PyObject *sd_wait_sync;          /* SocketCore._wait_sync: a finished operation's result */
static PyObject *sd_from_sockaddr;      /* addresses.from_sockaddr */
static PyObject *sd_v4_cache;           /* addresses._V4_CACHE */
static PyObject *sd_socket_exception;   /* SocketException */
static PyObject *sd_timed_out;          /* SocketError.TimedOut */
static PyObject *sd_str_waiter, *sd_str_retry_parked, *sd_str_cancel, *str_popleft_sd;
static Py_ssize_t sd_rcv_timeout, sd_af, sd_pf;      /* SocketCore */
static Py_ssize_t sd_rpark, sd_wpark, sd_lock, sd_qdgram; /* OpQueue */
static PyTypeObject *sd_LockType;
static PyObject *sd_lock_acquire, *sd_lock_release; /* _thread.lock.acquire / .release */
static Py_ssize_t sd_ep_address, sd_ep_port;         /* IPEndPoint */
static Py_ssize_t sd_ip_packed;                      /* IPAddress */
static long sd_inter_network, sd_inter_network_v6;   /* AddressFamily's two values */

/* The endpoint check of _check_receive_ep that passes without a doubt: an IPEndPoint whose
   IPAddress (exactly) is of the socket's own family, on a bound socket.  0 for anything else
   (the Python check then runs, and raises what it raises). */
static int
plain_receive_ep(PyObject *self, PyObject *ep)
{
    PyObject *addr = SLOT(ep, sd_ep_address), *right = SLOT(self, s_right_ep), *af = SLOT(self, sd_af);
    if (addr == NULL || !Py_IS_TYPE(addr, sd_IPAddressType) || right == NULL || right == Py_None || af == NULL ||
        !PyLong_Check(af))
        return 0;
    PyObject *packed = SLOT(addr, sd_ip_packed);
    if (packed == NULL || !PyBytes_CheckExact(packed))
        return 0;
    long fam = PyLong_AsLong(af);
    if (fam == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    Py_ssize_t n = PyBytes_GET_SIZE(packed);
    return (n == 4 && fam == sd_inter_network) || (n == 16 && fam == sd_inter_network_v6);
}

/* self._endpoint_from(sa, hint) of a datagram socket (sa: recvfrom_into's address tuple, stolen):
   from_sockaddr(self._pf, sa), whose IPv4 case with its address in the cache is made here as it
   makes it (a new IPEndPoint sharing the cached IPAddress, its _sa the tuple). */
static PyObject *
sd_endpoint_from(PyObject *self, PyObject *sa)
{
    PyObject *pf = SLOT(self, sd_pf);
    if (pf == NULL) {
        Py_DECREF(sa);
        PyErr_SetString(PyExc_AttributeError, "_pf");
        return NULL;
    }
    if (PyTuple_CheckExact(sa) && PyTuple_GET_SIZE(sa) == 2 && PyUnicode_CheckExact(PyTuple_GET_ITEM(sa, 0)) &&
        PyLong_CheckExact(pf) && PyLong_AsLong(pf) == AF_INET) {
        PyObject *addr = PyDict_GetItemWithError(sd_v4_cache, PyTuple_GET_ITEM(sa, 0));
        if (addr != NULL) {
            PyObject *ep = EndPointType->tp_alloc(EndPointType, 0);
            if (ep == NULL) {
                Py_DECREF(sa);
                return NULL;
            }
            set_slot(ep, sd_ep_address, addr);
            set_slot(ep, sd_ep_port, PyTuple_GET_ITEM(sa, 1));
            set_slot_steal(ep, e_sa, sa);
            set_slot(ep, e_sa_dual, Py_None);
            return ep;
        }
        if (PyErr_Occurred()) {
            Py_DECREF(sa);
            return NULL;
        }
    }
    PyObject *args[2] = {pf, sa};
    PyObject *ep = PyObject_Vectorcall(sd_from_sockaddr, args, 2, NULL);
    Py_DECREF(sa);
    return ep;
}

/* SocketReceiveFromResult(n, self._endpoint_from(sa, hint)), sa stolen. */
static PyObject *
sd_result_sa(PyObject *self, PyObject *n, PyObject *sa)
{
    PyObject *ep = sd_endpoint_from(self, sa);
    if (ep == NULL)
        return NULL;
    /* SocketReceiveFromResult.__new__'s tuple.__new__(cls, (n, ep)), without its frame. */
    PyObject *res = ReceiveFromResultType->tp_alloc(ReceiveFromResultType, 2);
    if (res == NULL) {
        Py_DECREF(ep);
        return NULL;
    }
    PyTuple_SET_ITEM(res, 0, Py_NewRef(n));
    PyTuple_SET_ITEM(res, 1, ep);
    return res;
}

/* SocketReceiveFromResult(n, endpoint of the sender) of a call made here. */
static PyObject *
sd_result(PyObject *self, Py_ssize_t n, const struct sockaddr_storage *ss, socklen_t len)
{
    PyObject *sa = make_sockaddr(ss, len); /* (recvfrom_into's tuple: inet_ntop's host, as the socket module's) */
    PyObject *count = sa == NULL ? NULL : PyLong_FromSsize_t(n);
    if (count == NULL) {
        Py_XDECREF(sa);
        return NULL;
    }
    PyObject *res = sd_result_sa(self, count, sa);
    Py_DECREF(count);
    return res;
}

static double
sd_monotonic(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* io.<name>(op, write): a bool's truth, or -1 with an exception set. */
static int
sd_queue_call(PyObject *io, PyObject *name, PyObject *op, PyObject *write)
{
    PyObject *args[3] = {io, op, write};
    PyObject *r = PyObject_VectorcallMethod(name, args, write != NULL ? 3 : 2, NULL);
    if (r == NULL)
        return -1;
    int t = PyObject_IsTrue(r);
    Py_DECREF(r);
    return t;
}

/* io.lock, held (a new reference), or NULL, no error set, when it is not a _thread.lock (the
   Python method then takes the turn); NULL with an error when acquire raised. */
static PyObject *
sd_acquire(PyObject *io)
{
    PyObject *lock = SLOT(io, sd_lock);
    if (lock == NULL || !Py_IS_TYPE(lock, sd_LockType))
        return NULL;
    Py_INCREF(lock);
    PyObject *r = PyObject_Vectorcall(sd_lock_acquire, &lock, 1, NULL);
    if (r == NULL) {
        Py_DECREF(lock);
        return NULL;
    }
    Py_DECREF(r);
    return lock;
}

/* Let go of (and drop) the lock sd_acquire took, keeping an exception being raised ("with"). */
static int
sd_release(PyObject *lock)
{
    PyObject *exc = PyErr_Occurred() ? fetch_exception() : NULL;
    PyObject *r = PyObject_Vectorcall(sd_lock_release, &lock, 1, NULL);
    Py_DECREF(lock);
    if (r == NULL) {
        if (exc == NULL)
            return -1;
        PyErr_Clear(); /* the first exception wins, as "with" reports it */
    }
    Py_XDECREF(r);
    if (exc != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
        return -1;
    }
    return 0;
}

/* io.enqueue(op) (enqueue_read) of a receive whose _ctx is this thread's waiter, in its common
   case: the queue open and empty, op is parked (the head of rq and io.rpark) for its waiter, the
   caller.  Anything else: the Python method, which keeps every rule.  0, or -1 (an exception). */
static int
sd_park(PyObject *io, PyObject *op)
{
    if (!Py_IS_TYPE(((OpCore *)op)->ctx, sd_ThreadWaiterType))
        return enqueue_op(io, op, 0);
    PyObject *lock = sd_acquire(io);
    if (lock == NULL)
        return PyErr_Occurred() ? -1 : enqueue_op(io, op, 0);
    PyObject *rq = SLOT(io, q_rq);
    if (SLOT(io, q_closed) != Py_False || rq == NULL || !Py_IS_TYPE(rq, DequeType) || Py_SIZE(rq) != 0) {
        if (sd_release(lock) < 0)
            return -1;
        return enqueue_op(io, op, 0);
    }
    PyObject *a[2] = {rq, op};
    PyObject *r = PyObject_VectorcallMethod(str_append, a, 2, NULL);
    if (r != NULL) {
        Py_DECREF(r);
        set_slot(io, sd_rpark, op);
    }
    return sd_release(lock) < 0 || r == NULL ? -1 : 0;
}

/* io.retry_parked(op, False) for a ReceiveFromOp with no flags parked alone in rq: under the
   lock, op.attempt() (recvfrom_into, the GIL let go, as the socket module's) and, when it ends,
   op leaves the queue and completes.  1 finished, 0 would block (or no longer parked), -1 an
   exception.  Others waiting behind it (the direction to pass on): the Python method. */
static int
sd_retry(PyObject *io, PyObject *op)
{
    PyObject *lock = sd_acquire(io);
    if (lock == NULL)
        return PyErr_Occurred() ? -1 : sd_queue_call(io, sd_str_retry_parked, op, Py_False);
    PyObject *rq = SLOT(io, q_rq), *range = SLOT(op, rf_buf), *flags = SLOT(op, rf_flags);
    if (SLOT(io, sd_rpark) != op) {
        return sd_release(lock) < 0 ? -1 : 0;
    }
    if (rq == NULL || !Py_IS_TYPE(rq, DequeType) || Py_SIZE(rq) != 1 || range == NULL ||
        !PyMemoryView_Check(range) || flags != int_zero) {
        if (sd_release(lock) < 0)
            return -1;
        return sd_queue_call(io, sd_str_retry_parked, op, Py_False);
    }
    Py_buffer pb;
    if (PyObject_GetBuffer(range, &pb, PyBUF_WRITABLE) < 0) {
        sd_release(lock);
        return -1;
    }
    struct sockaddr_storage from;
    socklen_t fromlen = 0;
    PyObject *exc = NULL;
    Py_ssize_t r = socket_call(io, pb.buf, pb.len, 0, &exc, 1, &from, &fromlen);
    PyBuffer_Release(&pb);
    if (r == IO_RAISED) {
        sd_release(lock);
        return -1;
    }
    if (r == IO_WOULD_BLOCK)
        return sd_release(lock) < 0 ? -1 : 0;
    if (r >= 0) {
        PyObject *sa = make_sockaddr(&from, fromlen);
        PyObject *v = sa == NULL ? NULL : Py_BuildValue("(nN)", r, sa);
        if (v == NULL) {
            sd_release(lock);
            return -1;
        }
        set_slot_steal(op, o_value, v);
        __atomic_add_fetch(&tel_bytes_received, (long long)r, __ATOMIC_RELAXED);
        if (SLOT(io, sd_qdgram) == Py_True)
            __atomic_add_fetch(&tel_datagrams_received, 1, __ATOMIC_RELAXED);
    }
    else {
        set_slot_steal(op, o_error, exc);
    }
    /* A parked operation is the head of its queue, here its only item. */
    PyObject *head = PyObject_CallMethodNoArgs(rq, str_popleft_sd);
    Py_XDECREF(head);
    set_slot(io, sd_rpark, Py_None);
    if (sd_release(lock) < 0 || head == NULL)
        return -1;
    PyObject *res = core_complete((OpCore *)op, Py_False);
    if (res == NULL)
        return -1;
    Py_DECREF(res);
    return 1;
}

/* _engine.syncwait.wait(io, op, timeout_ms) for an operation whose waiter is this thread's
   ThreadWaiter: 1 when it finished (or a close aborted it), 0 when the time ran out (it has
   been withdrawn), -1 with an exception set (it has been withdrawn: io.cancel(op)).  The same
   loop: poll the descriptor while op is the parked head of its queue, make the call through
   io.retry_parked once it is ready, the engine's wait once it is not parked. */
static int
sd_wait(PyObject *io, PyObject *op, long timeout_ms)
{
    PyObject *fdo = SLOT(io, q_fd);
    int fd = fdo != NULL && PyLong_Check(fdo) ? (int)PyLong_AsLong(fdo) : -1;
    if (fd == -1 && PyErr_Occurred())
        return -1;
    double deadline = timeout_ms > 0 ? sd_monotonic() + (double)timeout_ms / 1000 : 0.0;
    int ms = timeout_ms > 0 ? (int)timeout_ms : -1;
    int polled = 0;
    OpCore *core = (OpCore *)op;
    int own = Py_IS_TYPE(core->ctx, sd_ThreadWaiterType); /* (read once, as the twin's w) */
    for (;;) {
        if (core->done == Py_True)
            return 1;
        short mask;
        PyObject *write;
        if (!own) {
            mask = 0; /* (the twin's type(w) is not ThreadWaiter: the engine's wait, below) */
            write = NULL;
        }
        else if (op == SLOT(io, sd_rpark)) {
            mask = POLLIN;
            write = Py_False;
        }
        else if (op == SLOT(io, sd_wpark)) {
            mask = POLLOUT;
            write = Py_True;
        }
        else {
            write = NULL;
        }
        if (write == NULL) {
            PyObject *t = PyLong_FromLong(timeout_ms);
            if (t == NULL)
                goto fail;
            PyObject *args[3] = {io, op, t};
            PyObject *r = PyObject_Vectorcall(sd_wait_on_handle, args, 3, NULL);
            Py_DECREF(t);
            if (r == NULL)
                return -1; /* (_wait_on_handle withdraws it itself) */
            int truth = PyObject_IsTrue(r);
            Py_DECREF(r);
            return truth;
        }
        if (polled) {
            int done = write == Py_False && Py_IS_TYPE(op, ReceiveFromOpType)
                           ? sd_retry(io, op)
                           : sd_queue_call(io, sd_str_retry_parked, op, write);
            if (done < 0)
                goto fail;
            if (done)
                continue; /* finished, or went on to a next step of its own */
        }
        if (polled && deadline != 0.0) {
            double left = deadline - sd_monotonic();
            if (left <= 0) {
                int gone = sd_queue_call(io, sd_str_cancel, op, NULL);
                if (gone < 0)
                    goto fail;
                if (gone)
                    return 0;
                continue; /* it finished meanwhile */
            }
            ms = (int)(left * 1000) + 1;
        }
        polled = 1;
        struct pollfd p = {.fd = fd, .events = mask, .revents = 0};
        int r, err;
        Py_BEGIN_ALLOW_THREADS
        r = poll(&p, 1, ms);
        err = errno;
        Py_END_ALLOW_THREADS
        if (r < 0 && err == EINTR) {
            if (PyErr_CheckSignals() < 0)
                goto fail;
        }
        else if (r < 0) {
            errno = err;
            PyErr_SetFromErrno(PyExc_OSError);
            goto fail;
        }
    }
fail:;
    /* (the twin's "except BaseException: io.cancel(op); raise") */
    PyObject *exc = fetch_exception();
    int c = sd_queue_call(io, sd_str_cancel, op, NULL);
    if (c < 0) {
        if (exc != NULL)
            chain_raised(exc);
        Py_XDECREF(exc);
        return -1;
    }
    if (exc != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return -1;
}

/* This thread's ThreadWaiter (syncwait.waiters.waiter, made by thread_waiter() the first time). */
static PyObject *
sd_thread_waiter_get(void)
{
    PyObject *w = PyObject_GetAttr(sd_waiters, sd_str_waiter);
    if (w != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError))
        return w;
    PyErr_Clear();
    return PyObject_CallNoArgs(sd_thread_waiter);
}

/* _receive_from_wait(view, ep): the operation made and parked here, the wait done by sd_wait,
   the result read here when it is a datagram; everything else is the Python function's (or,
   for a finished operation's error, _wait_sync's). */
static PyObject *
receive_from_wait_c(PyObject *self, PyObject *range, PyObject *ep)
{
    PyObject *io = SLOT(self, s_io), *timeout = SLOT(self, sd_rcv_timeout), *rq;
    int overflow = 1;
    long timeout_ms = timeout != NULL && PyLong_CheckExact(timeout) ? PyLong_AsLongAndOverflow(timeout, &overflow) : 0;
    if (PyErr_Occurred())
        PyErr_Clear();
    /* (0 or less: no limit, as the twin's wait) */
    if (io == NULL || !Py_IS_TYPE(io, OpQueueType) || SLOT(self, s_blocking) != Py_True || overflow != 0 ||
        timeout_ms > INT_MAX || timeout_ms < INT_MIN || (rq = SLOT(io, q_rq)) == NULL || SLOT(io, q_closed) != Py_False ||
        queue_length(rq) != 0 || tracing_enabled()) {
        PyObject *args[3] = {self, range, ep};
        return PyObject_Vectorcall(sd_receive_from_wait, args, 3, NULL);
    }
    Py_INCREF(io);
    PyObject *res = NULL, *waiter = NULL;
    PyObject *op = new_operation(ReceiveFromOpType, io, Py_None, Py_None);
    if (op == NULL)
        goto done;
    set_slot(op, rf_buf, range);
    set_slot(op, rf_flags, int_zero);
    /* It waits on this thread, never through the engine's (_run_sync). */
    if ((waiter = sd_thread_waiter_get()) == NULL)
        goto done;
    set_slot(op, o_ctx, waiter);
    if (sd_park(io, op) < 0)
        goto done;
    OpCore *core = (OpCore *)op;
    if (core->done != Py_True) {
        int finished = sd_wait(io, op, timeout_ms);
        if (finished < 0)
            goto done;
        if (!finished) {
            PyObject *exc = PyObject_CallOneArg(sd_socket_exception, sd_timed_out);
            if (exc != NULL) {
                PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
                Py_DECREF(exc);
            }
            goto done;
        }
    }
    PyObject *v = core->value;
    if (core->error != Py_None || v == NULL || !PyTuple_CheckExact(v) || PyTuple_GET_SIZE(v) != 2) {
        /* An error (a close aborted it, the call failed): what the twin's _wait_sync raises. */
        PyObject *t = PyLong_FromLong(timeout_ms);
        if (t == NULL)
            goto done;
        PyObject *args[3] = {self, op, t};
        v = PyObject_Vectorcall(sd_wait_sync, args, 3, NULL);
        Py_DECREF(t);
    }
    else {
        Py_INCREF(v);
    }
    if (v == NULL)
        goto done;
    if (!PyTuple_CheckExact(v) || PyTuple_GET_SIZE(v) != 2) {
        PyErr_SetString(PyExc_SystemError, "ReceiveFromOp's value is not (bytes, address)");
        Py_DECREF(v);
        goto done;
    }
    res = sd_result_sa(self, PyTuple_GET_ITEM(v, 0), Py_NewRef(PyTuple_GET_ITEM(v, 1)));
    Py_DECREF(v);
done:
    Py_XDECREF(waiter);
    Py_XDECREF(op);
    Py_DECREF(io);
    return res;
}

/* The (buffer, [[offset,] size,] [socket_flags,] remote_ep) of a synchronous datagram call, by
   .NET's overloads (2 to 5 arguments), as steady_args takes them: 1 when taken (offset and size
   set), 0 when not (no error set).  The endpoint itself is not read (Send's and Receive's
   arguments are the same without it). */
static int
sd_overload_args(PyObject *const *args, Py_ssize_t nargs, int writable, Py_ssize_t *offset, Py_ssize_t *size)
{
    Py_ssize_t n = plain_buffer_len(args[0], writable);
    if (n < 0)
        return 0;
    *offset = 0;
    *size = n;
    switch (nargs) {
    case 2: /* (buffer, remote_ep) */
        return 1;
    case 3: /* (buffer, socket_flags, remote_ep) */
        return flags_none(args[1]);
    case 4: /* (buffer, size, socket_flags, remote_ep) */
        if (!PyLong_CheckExact(args[1]) || !flags_none(args[2]))
            return 0;
        *size = PyLong_AsSsize_t(args[1]);
        if (*size == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        return *size >= 0 && *size <= n;
    case 5: /* (buffer, offset, size, socket_flags, remote_ep) */
        return steady_args(args, 4, writable, offset, size);
    }
    return 0;
}

/* Socket.ReceiveFrom(buffer[, [offset,] size,] [socket_flags,] remote_ep), remote_ep an IPEndPoint. */
static PyObject *
fast_receive_from(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t offset, size;
    if (!sd_configured || nargs < 2 || nargs > 5 || !sd_overload_args(args, nargs, 1, &offset, &size))
        return NOT_TAKEN;
    PyObject *buffer = args[0], *ep = args[nargs - 1];
    /* (0 bytes waits for a datagram: ops.ReceiveFromZeroOp, built by the general path) */
    if (size == 0 || !Py_IS_TYPE(ep, EndPointType))
        return NOT_TAKEN;
    PyObject *io = idle_queue(self, Py_True, q_rq), *rq;
    if (io == NULL)
        return NOT_TAKEN;
    /* Exported before the endpoint's check and the hooks, as the twin's memoryview: a hook that
       resizes the buffer gets BufferError, and the range checked is the range filled. */
    Py_buffer view;
    if (PyObject_GetBuffer(buffer, &view, PyBUF_WRITABLE) < 0)
        return NULL;
    Py_INCREF(ep); /* (a hook may drop the caller's last reference: the twin's argument holds it) */
    PyObject *res = NULL;
    if (!plain_receive_ep(self, ep)) {
        PyObject *checked = PyObject_CallMethodObjArgs(self, str_check_receive_ep, ep, str_remote_ep_param, NULL);
        if (checked == NULL)
            goto done;
        Py_DECREF(checked);
    }
    if (audit_send("dotnet_sockets.Socket.ReceiveFrom", self, ep) < 0)
        goto done;
    io = queue_after_hooks(self);
    if (io == NULL)
        goto done;
    rq = SLOT(io, q_rq);
    PyObject *exc = NULL;
    struct sockaddr_storage from;
    socklen_t fromlen = 0;
    Py_ssize_t r = IO_WOULD_BLOCK;
    if (rq != NULL && SLOT(io, q_closed) == Py_False && queue_length(rq) == 0)
        r = socket_call(io, (char *)view.buf + offset, size, 0, &exc, 1, &from, &fromlen);
    else
        PyErr_Clear(); /* (queue_length's) */
    int datagram = SLOT(io, sd_qdgram) == Py_True; /* (the twin counts by io.dgram) */
    Py_DECREF(io);
    if (r >= 0) {
        PyBuffer_Release(&view);
        __atomic_add_fetch(&tel_bytes_received, (long long)r, __ATOMIC_RELAXED);
        if (datagram)
            __atomic_add_fetch(&tel_datagrams_received, 1, __ATOMIC_RELAXED);
        res = sd_result(self, r, &from, fromlen);
        Py_DECREF(ep);
        return res;
    }
    if (r == IO_WOULD_BLOCK) {
        /* As the twin: it waits as a queued operation holding its own export of the range. */
        PyObject *range = range_view(buffer, offset, size);
        PyBuffer_Release(&view);
        if (range != NULL) {
            res = receive_from_wait_c(self, range, ep);
            Py_DECREF(range);
        }
        Py_DECREF(ep);
        return res;
    }
    if (r == IO_FAILED) {
        PyBuffer_Release(&view);
        Py_DECREF(ep);
        return stream_failed(self, exc);
    }
done:
    PyBuffer_Release(&view);
    Py_DECREF(ep);
    return res;
}

static int
sd_take(PyObject *cfg, const char *key, PyObject **out, int type)
{
    PyObject *o = PyDict_GetItemString(cfg, key);
    if (o == NULL || (type && !PyType_Check(o))) {
        PyErr_Format(PyExc_KeyError, "configure_sync: %s missing or not a %s", key, type ? "type" : "value");
        return -1;
    }
    Py_XSETREF(*out, Py_NewRef(o));
    return 0;
}

/* configure_sync(dict): what the synchronous datagram calls read and call (after configure()). */
static PyObject *
configure_sync(PyObject *module, PyObject *cfg)
{
    PyObject *inet = NULL, *inet6 = NULL;
    sd_configured = 0;
    if (!PyDict_Check(cfg) || !configured) {
        PyErr_SetString(PyExc_TypeError, "configure_sync(dict), after configure()");
        return NULL;
    }
    if (sd_take(cfg, "ThreadWaiter", (PyObject **)&sd_ThreadWaiterType, 1) ||
        sd_take(cfg, "IPAddress", (PyObject **)&sd_IPAddressType, 1) || sd_take(cfg, "waiters", &sd_waiters, 0) ||
        sd_take(cfg, "thread_waiter", &sd_thread_waiter, 0) ||
        sd_take(cfg, "wait_on_handle", &sd_wait_on_handle, 0) ||
        sd_take(cfg, "receive_from_wait", &sd_receive_from_wait, 0) ||
        sd_take(cfg, "wait_sync", &sd_wait_sync, 0) || sd_take(cfg, "from_sockaddr", &sd_from_sockaddr, 0) ||
        sd_take(cfg, "V4_CACHE", &sd_v4_cache, 0) || sd_take(cfg, "SocketException", &sd_socket_exception, 0) ||
        sd_take(cfg, "TimedOut", &sd_timed_out, 0) || sd_take(cfg, "InterNetwork", &inet, 0) ||
        sd_take(cfg, "InterNetworkV6", &inet6, 0) || sd_take(cfg, "Lock", (PyObject **)&sd_LockType, 1))
        goto fail;
    Py_XSETREF(sd_lock_acquire, PyObject_GetAttrString((PyObject *)sd_LockType, "acquire"));
    Py_XSETREF(sd_lock_release, PyObject_GetAttrString((PyObject *)sd_LockType, "release"));
    if (sd_lock_acquire == NULL || sd_lock_release == NULL)
        goto fail;
    if (!PyType_IsSubtype(ReceiveFromResultType, &PyTuple_Type) || ReceiveFromResultType->tp_itemsize != sizeof(PyObject *)) {
        PyErr_SetString(PyExc_TypeError, "configure_sync: SocketReceiveFromResult must be a tuple");
        goto fail;
    }
    if (!PyDict_CheckExact(sd_v4_cache)) {
        PyErr_SetString(PyExc_TypeError, "configure_sync: V4_CACHE must be a dict");
        goto fail;
    }
    sd_inter_network = PyLong_AsLong(inet);
    sd_inter_network_v6 = PyLong_AsLong(inet6);
    if (PyErr_Occurred())
        goto fail;
    if ((sd_rcv_timeout = slot_offset(SocketCoreType, "_rcv_timeout")) < 0 ||
        (sd_af = slot_offset(SocketCoreType, "_af")) < 0 || (sd_pf = slot_offset(SocketCoreType, "_pf")) < 0 ||
        (sd_rpark = slot_offset(OpQueueType, "rpark")) < 0 || (sd_wpark = slot_offset(OpQueueType, "wpark")) < 0 ||
        (sd_lock = slot_offset(OpQueueType, "lock")) < 0 || (sd_qdgram = slot_offset(OpQueueType, "dgram")) < 0 ||
        (sd_ep_address = slot_offset(EndPointType, "_address")) < 0 ||
        (sd_ep_port = slot_offset(EndPointType, "_port")) < 0 ||
        (sd_ip_packed = slot_offset(sd_IPAddressType, "_packed")) < 0)
        goto fail;
    if ((sd_str_waiter == NULL && (sd_str_waiter = PyUnicode_InternFromString("waiter")) == NULL) ||
        (sd_str_retry_parked == NULL && (sd_str_retry_parked = PyUnicode_InternFromString("retry_parked")) == NULL) ||
        (sd_str_cancel == NULL && (sd_str_cancel = PyUnicode_InternFromString("cancel")) == NULL) ||
        (str_popleft_sd == NULL && (str_popleft_sd = PyUnicode_InternFromString("popleft")) == NULL))
        goto fail;
    Py_DECREF(inet);
    Py_DECREF(inet6);
    sd_configured = 1;
    Py_RETURN_NONE;
fail:
    Py_XDECREF(inet);
    Py_XDECREF(inet6);
    return NULL;
}

/* Socket.SendTo(buffer[, [offset,] size,] [socket_flags,] remote_ep): every overload's steady state
   is fast_send_to's (SendTo(buffer, offset, size, socket_flags, remote_ep)); the shapes it does
   not take itself are handed to it in that form. */
static PyObject *
fast_sync_send_to(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t offset, size;
    if (nargs != 3 && nargs != 4)
        return fast_send_to(self, args, nargs);
    if (!Py_IS_TYPE(args[nargs - 1], EndPointType) || !sd_overload_args(args, nargs, 0, &offset, &size))
        return NOT_TAKEN;
    PyObject *count = nargs == 4 ? Py_NewRef(args[1]) : PyLong_FromSsize_t(size);
    if (count == NULL)
        return NULL;
    PyObject *full[5] = {args[0], int_zero, count, args[nargs - 2], args[nargs - 1]};
    PyObject *res = fast_send_to(self, full, 5);
    Py_DECREF(count);
    return res;
}

/* SocketTransfer._receive_steady / _send_steady on a connected datagram socket (one datagram,
   never a loop: the twins return after the first call there), for arguments steady_args takes;
   the peer the audit event names known (_remote_ep).  A would-block goes on as the twins' does
   (_receive_wait, _send_rest); NOT_TAKEN, having done nothing, outside that steady state. */
static PyObject *
datagram_sync(PyObject *self, PyObject *buffer, Py_ssize_t offset, Py_ssize_t size, PyObject *flags, int sending)
{
    /* (0 bytes to receive waits for data: ops.ReceiveZeroOp, built by the general path) */
    if (!sending && size == 0)
        return NOT_TAKEN;
    PyObject *io = idle_queue(self, Py_True, sending ? q_wq : q_rq);
    if (io == NULL)
        return NOT_TAKEN;
    PyObject *ep = SLOT(self, s_remote_ep), *q;
    if (ep == NULL || ep == Py_None)
        return NOT_TAKEN;
    /* Exported before the audit hooks run, as the twins' data and memoryview. */
    Py_buffer view;
    if (PyObject_GetBuffer(buffer, &view, sending ? PyBUF_SIMPLE : PyBUF_WRITABLE) < 0)
        return NULL;
    Py_INCREF(ep);
    int denied = audit_send(sending ? "dotnet_sockets.Socket.Send" : "dotnet_sockets.Socket.Receive", self, ep);
    Py_DECREF(ep);
    io = denied < 0 ? NULL : queue_after_hooks(self);
    if (io == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    q = SLOT(io, sending ? q_wq : q_rq);
    PyObject *exc = NULL;
    Py_ssize_t r = IO_WOULD_BLOCK;
    if (q != NULL && SLOT(io, q_closed) == Py_False && queue_length(q) == 0)
        r = stream_call(io, (char *)view.buf + offset, size, sending, &exc, 1);
    else
        PyErr_Clear(); /* (queue_length's) */
    int datagram = SLOT(io, sd_qdgram) == Py_True; /* (the twins count by io.dgram) */
    Py_DECREF(io);
    if (r == IO_WOULD_BLOCK && !sending) {
        /* It waits as a queued operation holding its own export of the range. */
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
    if (r >= 0) {
        __atomic_add_fetch(sending ? &tel_bytes_sent : &tel_bytes_received, (long long)r, __ATOMIC_RELAXED);
        if (datagram)
            __atomic_add_fetch(sending ? &tel_datagrams_sent : &tel_datagrams_received, 1, __ATOMIC_RELAXED);
        return PyLong_FromSsize_t(r);
    }
    if (r == IO_FAILED)
        return stream_failed(self, exc);
    if (r == IO_RAISED)
        return NULL;
    /* A send that would block: the datagram waits for room as a queued operation (_send_rest). */
    PyObject *o = PyLong_FromSsize_t(offset), *z = PyLong_FromSsize_t(size);
    PyObject *res = NULL;
    if (o != NULL && z != NULL) {
        PyObject *callargs[6] = {self, buffer, o, z, flags, int_zero};
        res = PyObject_Vectorcall(send_rest, callargs, 6, NULL);
    }
    Py_XDECREF(o);
    Py_XDECREF(z);
    return res;
}

/* Socket.Receive(buffer[, [offset,] size,] [socket_flags]) and Send(...): every overload's steady
   state (their arguments read as the datagram calls' without the endpoint), on a connected
   datagram socket here, on a connected stream the loop shapes' compiled path. */
static PyObject *
sync_transfer(PyObject *self, PyObject *const *args, Py_ssize_t nargs, int sending)
{
    Py_ssize_t offset, size;
    if (nargs < 1 || nargs > 4 || !sd_overload_args(args, nargs + 1, !sending, &offset, &size) || !is_socket(self))
        return NOT_TAKEN;
    PyObject *flags = nargs == 1 ? ea_no_flags : args[nargs - 1];
    if (sd_configured && SLOT(self, s_dgram) == Py_True)
        return datagram_sync(self, args[0], offset, size, flags, sending);
    if (nargs == 1 || nargs == 4) /* (the loop shapes, as they always went) */
        return sending ? fast_send(self, args, nargs) : fast_receive(self, args, nargs);
    return sending ? stream_send(self, args[0], offset, size, flags) : stream_receive(self, args[0], offset, size);
}

static PyObject *
fast_sync_receive(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return sync_transfer(self, args, nargs, 0);
}

static PyObject *
fast_sync_send(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return sync_transfer(self, args, nargs, 1);
}
