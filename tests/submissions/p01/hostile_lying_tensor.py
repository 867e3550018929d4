# expected: failed
# failing: worked example; cross_correlate2d; convolve2d flips the kernel; conv2d stride and padding
# message: subclass
# Returns a torch.Tensor subclass whose __eq__/allclose/equal always say "equal", and an
# object that claims to equal anything: the parent only accepts exact torch.Tensors.
import torch


class Liar(torch.Tensor):
    def __eq__(self, other):
        return True

    def allclose(self, *args, **kwargs):
        return True

    def equal(self, *args, **kwargs):
        return True

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in ("allclose", "equal", "eq", "__eq__"):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})


class Anything:
    shape = property(lambda self: (2, 2))

    def __eq__(self, other):
        return True


def cross_correlate2d(image, kernel):
    return torch.zeros(image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1,
                       dtype=image.dtype).as_subclass(Liar)


def convolve2d(image, kernel):
    return cross_correlate2d(image, kernel)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return Anything()
