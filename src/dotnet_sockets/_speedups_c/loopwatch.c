/* ---- the kept reader's report (aio._LoopWatch.ready's twin) ------------------ */

/* The loop calls a kept reader's ready() on every report of its descriptor: one per awaited
   receive that waits when the report runs the woken task's step itself (aio._step_now), else two
   (the report that wakes it, and the stale one of the iteration after).  The twin takes the case
   where a receive waits on it (keep.waiter a _LoopWaiter); "nobody waits" (the reader lets go of
   the descriptor there) and anything unexpected run the Python method. */

static PyTypeObject *LoopWatchType, *LoopWaiterType;
static Py_ssize_t lw_waiter, lw_suspect, lw_poll, lw_loop, lwt_fut;
static PyObject *invalid_state_error; /* asyncio.InvalidStateError */
static PyObject *str_set_result;
/* aio's _Future, _Task, _current_task and _step_now: read by configure from aio, not handed over. */
static PyObject *AFutureType, *ATaskType, *current_task_fn, *aio_step_now;
static PyObject *str_callbacks, *str_remove_done_callback, *str_run, *str_self;

/* aio._step_now's twin for asyncio's C Future (anything else runs it): 1 when the task's step ran
   here, 0 when nothing was done, -1 with an error. */
static int
step_now_c(PyObject *fut, PyObject *loop)
{
    if (!Py_IS_TYPE(fut, (PyTypeObject *)AFutureType)) {
        PyObject *r = PyObject_CallFunctionObjArgs(aio_step_now, fut, loop, NULL);
        int t = r == NULL ? -1 : PyObject_IsTrue(r);
        Py_XDECREF(r);
        return t;
    }
    PyObject *callbacks = PyObject_GetAttr(fut, str_callbacks), *wakeup = NULL, *context = NULL, *owner = NULL;
    int ret = 0;
    if (callbacks == NULL)
        return -1;
    /* (a C Future's _callbacks: None, or a list of (callback, context) pairs) */
    if (!PyList_CheckExact(callbacks) || PyList_GET_SIZE(callbacks) != 1)
        goto done;
    PyObject *task = PyObject_CallOneArg(current_task_fn, loop);
    if (task == NULL)
        goto failed;
    Py_DECREF(task);
    if (task != Py_None)
        goto done;
    PyObject *pair = PyList_GET_ITEM(callbacks, 0);
    if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) {
        PyErr_SetString(PyExc_SystemError, "a future's callback is not a pair");
        goto failed;
    }
    wakeup = Py_NewRef(PyTuple_GET_ITEM(pair, 0));
    context = Py_NewRef(PyTuple_GET_ITEM(pair, 1));
    owner = PyObject_GetAttr(wakeup, str_self);
    if (owner == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            goto failed;
        PyErr_Clear();
        goto done;
    }
    int is_task = PyObject_IsInstance(owner, ATaskType);
    if (is_task < 0)
        goto failed;
    if (!is_task)
        goto done;
    PyObject *r = PyObject_CallMethodOneArg(fut, str_remove_done_callback, wakeup);
    if (r == NULL)
        goto failed;
    Py_DECREF(r);
    r = PyObject_CallMethodOneArg(fut, str_set_result, Py_None);
    if (r == NULL)
        goto failed;
    Py_DECREF(r);
    r = PyObject_CallMethodObjArgs(context, str_run, wakeup, fut, NULL);
    if (r == NULL)
        goto failed;
    Py_DECREF(r);
    ret = 1;
    goto done;
failed:
    ret = -1;
done:
    Py_XDECREF(owner);
    Py_XDECREF(context);
    Py_XDECREF(wakeup);
    Py_DECREF(callbacks);
    return ret;
}

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
        /* Woken: a later report finds no future and raises nothing; the await holds its own. */
        set_slot(w, lwt_fut, Py_None);
        PyObject *loop = SLOT(self, lw_loop);
        if (loop == NULL) {
            Py_DECREF(fut);
            Py_DECREF(w);
            PyErr_SetString(PyExc_AttributeError, "loop");
            return NULL;
        }
        Py_INCREF(loop);
        int stepped = step_now_c(fut, loop);
        Py_DECREF(loop);
        if (stepped != 0) {
            /* The step ran before the loop's next selector call (see ready()): the next report
               is fresh. */
            Py_DECREF(fut);
            Py_DECREF(w);
            if (stepped < 0)
                return NULL;
            set_slot(self, lw_suspect, Py_False);
            Py_RETURN_NONE;
        }
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
