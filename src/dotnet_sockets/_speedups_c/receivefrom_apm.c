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
    if (!Py_IS_TYPE(ep, EndPointType) || (callback != Py_None && !PyCallable_Check(callback)))
        return NOT_TAKEN;
    PyObject *io = idle_queue(self, Py_True, q_rq);
    if (io == NULL)
        return NOT_TAKEN;
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
