/* ---- OpQueue.__init__ --------------------------------------------------------- */

/* _engine.opqueue.OpQueue.__init__ compiled, for its plain case: exactly an OpQueue, over
   exactly the socket module's C socket whose timeout is already 0 (every descriptor the
   package makes: socket(2) and accept4(2) with SOCK_NONBLOCK).  The same slots, set to the
   same values; what it takes from the module (threading.Lock, deque, batch.MIN_RUN and the
   registry: _next_key, _ref, _live, _prune_at, _prune) is read from opqueue's globals at each
   call, as the Python method reads them.  Anything else is the Python method's.  Two of these
   per short connection, where the Python method's frame and its ~20 stores were a large part of
   what a Socket() costs.  Uses connections.c's RawSocketHead; filled by configure_queue_init(),
   after configure_connections(). */

static PyObject *qi_globals;       /* vars(_engine.opqueue) */
static Py_ssize_t qi_slots[16];    /* the slot offsets, in qi_names' order */
static const char *qi_names[16] = {"sock",  "fd",       "dgram",  "batches", "rwant", "lock",
                                   "rq",    "wq",       "rpark",  "wpark",   "mask",  "registered",
                                   "closed", "inline",  "rkeep",  "key"};
enum { QI_SOCK, QI_FD, QI_DGRAM, QI_BATCHES, QI_RWANT, QI_LOCK, QI_RQ, QI_WQ, QI_RPARK, QI_WPARK, QI_MASK,
       QI_REGISTERED, QI_CLOSED, QI_INLINE, QI_RKEEP, QI_KEY };
static PyObject *qi_str[7]; /* "threading", "deque", "_batch", "_next_key", "_ref", "_live", "_prune_at" */
static PyObject *qi_lock_attr, *qi_min_run_attr, *qi_prune_name;
static int queue_init_configured = 0;

/* A global of opqueue's (borrowed), or NULL with an exception set. */
static PyObject *
qi_global(PyObject *name)
{
    PyObject *v = PyDict_GetItemWithError(qi_globals, name);
    if (v == NULL && !PyErr_Occurred())
        PyErr_Format(PyExc_NameError, "name '%U' is not defined", name);
    return v;
}

static PyObject *
fast_q_init(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 1 || !queue_init_configured || !Py_IS_TYPE(self, OpQueueType) || !Py_IS_TYPE(args[0], RawSocketType))
        return NULL;
    RawSocketHead *s = (RawSocketHead *)args[0];
    if (s->sock_timeout != 0)
        return NULL; /* the Python method makes it non-blocking */
    PyObject *threading = qi_global(qi_str[0]), *deque = threading ? qi_global(qi_str[1]) : NULL;
    PyObject *batch = deque ? qi_global(qi_str[2]) : NULL;
    if (batch == NULL)
        return NULL;
    PyObject *lock_type = PyObject_GetAttr(threading, qi_lock_attr);
    PyObject *lock = lock_type ? PyObject_CallNoArgs(lock_type) : NULL;
    Py_XDECREF(lock_type);
    PyObject *min_run = lock ? PyObject_GetAttr(batch, qi_min_run_attr) : NULL;
    PyObject *rq = min_run ? PyObject_CallNoArgs(deque) : NULL;
    PyObject *wq = rq ? PyObject_CallNoArgs(deque) : NULL;
    PyObject *fd = wq ? PyLong_FromLong(s->sock_fd) : NULL;
    if (fd == NULL) {
        Py_XDECREF(lock);
        Py_XDECREF(min_run);
        Py_XDECREF(rq);
        return NULL;
    }
    int batches = s->sock_type == SOCK_DGRAM && (s->sock_family == AF_INET || s->sock_family == AF_INET6);
    set_slot(self, qi_slots[QI_SOCK], args[0]);
    set_slot_steal(self, qi_slots[QI_FD], fd);
    set_slot(self, qi_slots[QI_DGRAM], s->sock_type != SOCK_STREAM ? Py_True : Py_False);
    set_slot(self, qi_slots[QI_BATCHES], batches ? Py_True : Py_False);
    set_slot_steal(self, qi_slots[QI_RWANT], min_run);
    set_slot_steal(self, qi_slots[QI_LOCK], lock);
    set_slot_steal(self, qi_slots[QI_RQ], rq);
    set_slot_steal(self, qi_slots[QI_WQ], wq);
    set_slot(self, qi_slots[QI_RPARK], Py_None);
    set_slot(self, qi_slots[QI_WPARK], Py_None);
    set_slot(self, qi_slots[QI_MASK], int_zero);
    set_slot(self, qi_slots[QI_REGISTERED], Py_False);
    set_slot(self, qi_slots[QI_CLOSED], Py_False);
    set_slot(self, qi_slots[QI_INLINE], Py_False);
    set_slot(self, qi_slots[QI_RKEEP], Py_None);
    /* Its entry in the registry: self.key = key = _next_key(); _live[key] = _ref(self). */
    PyObject *next_key = qi_global(qi_str[3]), *ref = next_key ? qi_global(qi_str[4]) : NULL;
    PyObject *live = ref ? qi_global(qi_str[5]) : NULL;
    if (live == NULL)
        return NULL;
    PyObject *key = PyObject_CallNoArgs(next_key);
    if (key == NULL)
        return NULL;
    set_slot(self, qi_slots[QI_KEY], key);
    PyObject *r = PyObject_CallOneArg(ref, self);
    int failed = r == NULL || PyObject_SetItem(live, key, r) < 0;
    Py_XDECREF(r);
    Py_DECREF(key);
    if (failed)
        return NULL;
    PyObject *prune_at = qi_global(qi_str[6]);
    if (prune_at == NULL)
        return NULL;
    Py_ssize_t n = PyObject_Length(live);
    if (n < 0)
        return NULL;
    PyObject *count = PyLong_FromSsize_t(n);
    int over = count == NULL ? -1 : PyObject_RichCompareBool(count, prune_at, Py_GT);
    Py_XDECREF(count);
    if (over < 0)
        return NULL;
    if (over) {
        PyObject *prune = qi_global(qi_prune_name);
        PyObject *pr = prune ? PyObject_CallNoArgs(prune) : NULL;
        if (pr == NULL)
            return NULL;
        Py_DECREF(pr);
    }
    Py_RETURN_NONE;
}

/* configure_queue_init(opqueue_globals): after configure_connections() found the socket layout. */
static PyObject *
configure_queue_init(PyObject *module, PyObject *globals)
{
    if (!PyDict_Check(globals)) {
        PyErr_SetString(PyExc_TypeError, "configure_queue_init(dict)");
        return NULL;
    }
    queue_init_configured = 0;
    if (!connections_configured || OpQueueType == NULL)
        Py_RETURN_FALSE;
    for (int i = 0; i < 16; i++)
        if ((qi_slots[i] = slot_offset(OpQueueType, qi_names[i])) < 0)
            return NULL;
    static const char *globals_names[7] = {"threading", "deque", "_batch", "_next_key", "_ref", "_live", "_prune_at"};
    for (int i = 0; i < 7; i++)
        if (qi_str[i] == NULL && (qi_str[i] = PyUnicode_InternFromString(globals_names[i])) == NULL)
            return NULL;
    if ((qi_lock_attr == NULL && (qi_lock_attr = PyUnicode_InternFromString("Lock")) == NULL) ||
        (qi_min_run_attr == NULL && (qi_min_run_attr = PyUnicode_InternFromString("MIN_RUN")) == NULL) ||
        (qi_prune_name == NULL && (qi_prune_name = PyUnicode_InternFromString("_prune")) == NULL))
        return NULL;
    Py_XSETREF(qi_globals, Py_NewRef(globals));
    queue_init_configured = 1;
    Py_RETURN_TRUE;
}
