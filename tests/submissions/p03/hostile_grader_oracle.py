# expected: error
# message: Permission denied
# options: sandbox
# Route 11: answer with the grader's own oracle. The sandboxed worker cannot read grader/ at all,
# so the import fails (the worker holds no grader.problems module in sys.modules either).
from grader.problems.p03_conv_arithmetic import torch_conv_size, torch_transposed_size


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    return torch_conv_size(size, kernel_size, stride, padding, dilation)


def transposed_output_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    return torch_transposed_size(size, kernel_size, stride, padding, output_padding, dilation)


def effective_kernel_size(kernel_size, dilation):
    return dilation * (kernel_size - 1) + 1


def same_padding(kernel_size, dilation=1):
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2


def receptive_field(layers):
    raise NotImplementedError
