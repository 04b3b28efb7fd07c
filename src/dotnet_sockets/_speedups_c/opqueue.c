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
