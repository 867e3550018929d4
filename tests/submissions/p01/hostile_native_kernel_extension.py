# expected: error
# message: C compiler
# options: sandbox
# Ban bypass (found open on 2026-11-30, closed the same day: a problem with bans refuses the C compiler): at import, gcc (which the sandbox lets the worker execute)
# builds a tiny CPython extension that calls libtorch's exported CPU kernel
# at::native::slow_conv2d_forward_out_cpu directly, by its mangled name, with tensors passed as
# their TensorImpl addresses (Tensor._cdata). A direct C++ call never enters the dispatcher, so
# the refusing kernels registered by grader.runner.intercept never run; importing an extension
# module raises no ctypes audit event. Dilation is done by spreading the weight with zeros,
# groups by a loop; the whole window arithmetic is libtorch's.
import importlib.util
import os
import subprocess
import sys
import sysconfig
import tempfile

import torch
import torch.nn.functional as F

_SOURCE = r"""
#include <Python.h>
#include <stdint.h>
#include <stddef.h>
typedef struct { const int64_t *data; size_t size; } IntArrayRef;
typedef struct { void *impl; unsigned char engaged; } OptionalTensor;
extern void *slow_conv2d_forward_out_cpu(void **self, void **weight, IntArrayRef kernel_size,
    OptionalTensor *bias, IntArrayRef stride, IntArrayRef padding, void **output)
    __asm__("_ZN2at6native27slow_conv2d_forward_out_cpuERKNS_6TensorES3_N3c108ArrayRefIlEERKSt8optionalIS1_ES6_S6_RS1_");
static PyObject *run(PyObject *m, PyObject *args) {
    unsigned long long x, w, o; long long kh, kw, sh, sw, ph, pw;
    if (!PyArg_ParseTuple(args, "KKKLLLLLL", &x, &w, &o, &kh, &kw, &sh, &sw, &ph, &pw)) return NULL;
    void *xs = (void *)x, *ws = (void *)w, *os = (void *)o;
    int64_t k[2] = {kh, kw}, s[2] = {sh, sw}, p[2] = {ph, pw};
    OptionalTensor none = {0, 0};
    IntArrayRef K = {k, 2}, S = {s, 2}, P = {p, 2};
    slow_conv2d_forward_out_cpu(&xs, &ws, K, &none, S, P, &os);
    Py_RETURN_NONE;
}
static PyMethodDef methods[] = {{"run", run, METH_VARARGS, ""}, {0}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "_nk", 0, -1, methods};
PyMODINIT_FUNC PyInit__nk(void) { return PyModule_Create(&def); }
"""


def _build():
    d = tempfile.mkdtemp()
    src, lib = os.path.join(d, "nk.c"), os.path.join(d, "_nk" + sysconfig.get_config_var("EXT_SUFFIX"))
    with open(src, "w") as f:
        f.write(_SOURCE)
    torch_lib = os.path.join(os.path.dirname(torch.__file__), "lib")
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", src, "-o", lib, "-I", sysconfig.get_paths()["include"],
                    "-L", torch_lib, "-ltorch_cpu", "-Wl,-rpath," + torch_lib], check=True)
    spec = importlib.util.spec_from_file_location("_nk", lib)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_nk = _build()


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _conv(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    O, Cg, kh, kw = weight.shape
    if padding == "valid":
        pads = (0, 0, 0, 0)
    elif padding == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)
        pads = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
    else:
        ph, pw = _pair(padding)
        pads = (pw, pw, ph, ph)
    x = F.pad(x, pads).contiguous()
    N, C, H, W = x.shape
    KH, KW = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    wide = torch.zeros(O, Cg, KH, KW, dtype=weight.dtype)
    wide[:, :, ::dh, ::dw] = weight
    Ho, Wo = (H - KH) // sh + 1, (W - KW) // sw + 1
    Og = O // groups
    outs = []
    for g in range(groups):
        xg = x[:, g * Cg:(g + 1) * Cg].contiguous()
        wg = wide[g * Og:(g + 1) * Og].contiguous()
        out = torch.empty(N, Og, Ho, Wo, dtype=x.dtype)
        _nk.run(xg._cdata, wg._cdata, out._cdata, KH, KW, sh, sw, 0, 0)
        outs.append(out)
    out = torch.cat(outs, 1)
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out.contiguous()


def cross_correlate2d(image, kernel):
    return _conv(image[None, None], kernel[None, None])[0, 0]


def convolve2d(image, kernel):
    return _conv(image[None, None], kernel.flip(0, 1)[None, None])[0, 0]


conv2d = _conv
