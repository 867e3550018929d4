"""p03 - Stride, padding and dilation: the arithmetic of a conv layer.

Interview question 3: "Explain the effects of stride, padding and dilation on convolution."

Answer it with numbers: write five functions on plain ints (one spatial dimension at a time).
Ints in, ints out (return an int, not a float or a tensor); where the output would have fewer
than 1 pixel, raise ValueError, as PyTorch refuses such a layer.

conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1) -> int
    The output length of F.conv2d along one dimension:
        out = floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1
effective_kernel_size(kernel_size, dilation) -> int
    How many input pixels a dilated kernel spans: dilation*(kernel_size - 1) + 1.
same_padding(kernel_size, dilation=1) -> (before, after)
    The padding that padding="same" applies (stride 1): dilation*(kernel_size - 1) in total;
    when that is odd, the extra pixel goes after (bottom/right), as PyTorch does.
receptive_field(layers) -> int
    layers: a list of dicts, e.g. [{"kernel_size": 3, "stride": 2}, {"kernel_size": 3, "dilation": 2}]
    ("stride" and "dilation" are optional, default 1). How many input pixels one output pixel of
    the whole stack depends on (first to last).
transposed_output_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1) -> int
    The output length of F.conv_transpose2d:
        out = (size - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1

Constraints: plain Python arithmetic; no need for tensors at all.

Example (work it by hand):
    conv_output_size(7, 3, stride=2, padding=1) == 4       # windows start at 0, 2, 4, 6 of 9
    conv_output_size(2, 3) raises ValueError                 # a 3-wide kernel does not fit in 2
    same_padding(4) == (1, 2);  effective_kernel_size(3, 2) == 5
    receptive_field([{"kernel_size": 3, "stride": 2}] * 2 + [{"kernel_size": 3}]) == 15
    transposed_output_size(4, 3, stride=2, padding=1, output_padding=1) == 8

Follow-ups an interviewer may ask: why does a stride-2 conv and a transposed conv with the same
settings not invert each other's shape exactly (what is output_padding for)? Why does dilation
grow the receptive field without adding parameters, and what is the "gridding" problem?
Why do ResNets use padding=1 with 3x3 kernels?
"""


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    # TODO: count the window positions that fit; raise ValueError when there are none.
    raise NotImplementedError("p03: conv_output_size is not implemented yet")


def effective_kernel_size(kernel_size, dilation):
    # TODO: dilation puts (dilation - 1) holes between neighbouring taps.
    raise NotImplementedError("p03: effective_kernel_size is not implemented yet")


def same_padding(kernel_size, dilation=1):
    # TODO: split the total padding in two; the extra pixel goes after.
    raise NotImplementedError("p03: same_padding is not implemented yet")


def receptive_field(layers):
    # TODO: walk the layers, tracking how far apart (in input pixels) neighbouring outputs are.
    raise NotImplementedError("p03: receptive_field is not implemented yet")


def transposed_output_size(size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    # TODO: the shape inverse of conv_output_size, plus output_padding.
    raise NotImplementedError("p03: transposed_output_size is not implemented yet")
