# expected: passed
# A fresh learner's correct answer, written from the stub alone (not the reference): see
# the notes in its own comments for how it differs.
def _check(v):
    if v < 1:
        raise ValueError(f"output size would be {v} < 1")
    return int(v)


def effective_kernel_size(kernel_size, dilation):
    return int(dilation * (kernel_size - 1) + 1)


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    span = size + 2 * padding - effective_kernel_size(kernel_size, dilation)
    if span < 0:
        raise ValueError("kernel does not fit in the padded input")
    return _check(span // stride + 1)


def same_padding(kernel_size, dilation=1):
    total = dilation * (kernel_size - 1)
    before = total // 2
    return (int(before), int(total - before))


def receptive_field(layers):
    # walk backwards from one output pixel: r = r*s + (k-1)*d
    r = 1
    for layer in reversed(list(layers)):
        k = layer["kernel_size"]
        s = layer.get("stride", 1)
        d = layer.get("dilation", 1)
        r = (r - 1) * s + d * (k - 1) + 1
    return int(r)


def transposed_output_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    out = (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    return _check(out)
