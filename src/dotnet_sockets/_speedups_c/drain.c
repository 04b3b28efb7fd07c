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
