# expected: failed
# failing: worked example; matrix times input is conv2d
# message: forbidden op
# Builds the matrix from F.conv2d of one-hot inputs: right values, but through a conv kernel.
import torch
import torch.nn.functional as F


def conv_matrix(weight, input_shape, stride=1, padding=0):
    c, h, w = (int(s) for s in input_shape)
    basis = torch.eye(c * h * w, dtype=weight.dtype).reshape(c * h * w, c, h, w)
    return F.conv2d(basis, weight, None, stride, padding).reshape(c * h * w, -1).T.contiguous()
