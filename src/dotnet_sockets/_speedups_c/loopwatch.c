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
        /* Woken: the next iteration's report (the data stays until the step runs) finds no
           future and raises nothing; the await holds its own reference. */
        set_slot(w, lwt_fut, Py_None);
        PyObject *r = PyObject_CallMethodOneArg(fut, str_set_result, Py_None);
        Py_DECREF(fut);
        if (r == NULL) {
            /* cancelled (its step not yet run) */
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
