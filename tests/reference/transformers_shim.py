"""The smallest stand-in for the parts of Hugging Face `transformers` that the authors' Emu3
VisionVQ files import, so that `vision_reference.py` can run THEIR modules unchanged.

Why a shim: `transformers` cannot be installed on the project's machines (no PyPI; Debian has no
python3-transformers) and no snapshot of its source is mirrored here, so its real image transforms
cannot be imported either. What follows is not the authors' code and not a copy of transformers: it
is the behaviour the authors' files rely on, written down from the transformers API (4.4x), with
every numeric step done the way transformers does it:

* `image_transforms.resize`: a uint8 numpy image is turned back into a PIL image (no rescaling, as
  transformers' `_rescale_for_pil_conversion` decides for uint8 / integral 0..255 input), then
  `PIL.Image.Image.resize((width, height), resample=resample, reducing_gap=None)`, then back to a
  numpy array in the input's channel layout. So the processor's resize IS Pillow's resize.
* `image_transforms.convert_to_rgb`: non-PIL input is returned as is; a PIL image in mode "RGB"
  as is; anything else `image.convert("RGB")` (Pillow: L replicated, RGBA alpha dropped, P via
  the palette; no compositing on a background).
* `image_transforms.rescale`: `image.astype(np.float64) * scale`, then `.astype(np.float32)`.
* `image_transforms.normalize`: a float input keeps its dtype (float32 here); mean and std become
  arrays of that dtype; `(image - mean) / std` in that dtype (channels-last), or on the transpose
  for channels-first.
* `image_utils`: `infer_channel_dimension_format` (first axis of size 1 or 3 -> FIRST, else last
  axis of size 1 or 3 -> LAST), `get_image_size`, `to_numpy_array` (`np.array(pil_image)`),
  `make_list_of_images`, `is_scaled_image`, `valid_images`, `validate_preprocess_arguments`
  (argument checks only), the IMAGENET_STANDARD mean/std (0.5, 0.5, 0.5) and `PILImageResampling`
  (= `PIL.Image.Resampling`).
* `image_processing_utils.BaseImageProcessor`: `__init__(**kwargs)` keeps unknown keys as
  attributes, `__call__` is `preprocess`, `rescale` / `normalize` call the functions above;
  `BatchFeature` is a dict whose `"pt"` conversion is `torch.tensor(numpy array)` (dtype kept).
* `configuration_utils.PretrainedConfig`: stores the keyword arguments as attributes.
* `modeling_utils.PreTrainedModel`: an `nn.Module` holding `config`; `post_init()` applies the
  model's `_init_weights` to every module (as transformers does at construction). The reference
  overwrites every tensor afterwards, so this only matters for random-number consumption.
* `utils`: `logging.get_logger` (a standard logger with `warning_once`), `TensorType`,
  `is_torch_available` / `is_vision_available` (True), `OptionalDependencyNotAvailable`, and a
  `_LazyModule` that imports the package's submodules on first attribute access.

`install()` puts these modules into `sys.modules` under the `transformers.*` names, unless a real
`transformers` is importable (then that is used and `install()` returns its version).
"""

import enum
import importlib
import logging as _pylogging
import sys
import types

import numpy as np

SHIM_NAME = "shim"


# ---------------------------------------------------------------- transformers.utils

class OptionalDependencyNotAvailable(BaseException):
    pass


class TensorType(str, enum.Enum):
    PYTORCH = "pt"
    NUMPY = "np"


def is_torch_available():
    return True


def is_vision_available():
    return True


class _LazyModule(types.ModuleType):
    """Imports `<package>.<submodule>` when one of the names listed for it is first read."""

    def __init__(self, name, module_file, import_structure, module_spec=None, extra_objects=None):
        super().__init__(name)
        self.__file__ = module_file
        self.__path__ = [__import__("os").path.dirname(module_file)]
        self._name_to_module = {n: mod for mod, names in import_structure.items() for n in names}
        self._modules = set(import_structure)
        for k, v in (extra_objects or {}).items():
            setattr(self, k, v)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name in self._modules:
            value = importlib.import_module("." + name, self.__name__)
        elif name in self._name_to_module:
            value = getattr(importlib.import_module("." + self._name_to_module[name], self.__name__), name)
        else:
            raise AttributeError(f"module {self.__name__} has no attribute {name}")
        setattr(self, name, value)
        return value


def _get_logger(name=None):
    logger = _pylogging.getLogger(name or "transformers")
    if not hasattr(logger, "warning_once"):
        seen = set()

        def warning_once(msg, *args):
            if msg not in seen:
                seen.add(msg)
                logger.warning(msg, *args)

        logger.warning_once = warning_once
    return logger


# ---------------------------------------------------------------- transformers.image_utils

class ChannelDimension(str, enum.Enum):
    FIRST = "channels_first"
    LAST = "channels_last"
    NONE = "none"


IMAGENET_STANDARD_MEAN = [0.5, 0.5, 0.5]
IMAGENET_STANDARD_STD = [0.5, 0.5, 0.5]


def _pil():
    import PIL.Image
    return PIL.Image


def _is_pil(img):
    return isinstance(img, _pil().Image)


def _is_valid_image(img):
    if _is_pil(img) or isinstance(img, np.ndarray):
        return True
    try:
        import torch
        return isinstance(img, torch.Tensor)
    except ImportError:
        return False


def valid_images(imgs):
    if isinstance(imgs, (list, tuple)):
        return all(valid_images(i) for i in imgs)
    return _is_valid_image(imgs)


def make_list_of_images(images, expected_ndims=3):
    if isinstance(images, (list, tuple)) and len(images) > 0 and all(_is_valid_image(i) for i in images):
        return list(images)
    if _is_valid_image(images):
        if _is_pil(images):
            return [images]
        if images.ndim == expected_ndims + 1:
            return list(images)
        if images.ndim == expected_ndims:
            return [images]
        raise ValueError(f"Invalid image shape. Expected either {expected_ndims + 1} or {expected_ndims} "
                         f"dimensions, but got {images.ndim} dimensions.")
    raise ValueError(f"Invalid image type. Expected PIL image or numpy array, got {type(images)}.")


def to_numpy_array(img):
    if not _is_valid_image(img):
        raise ValueError(f"Invalid image type: {type(img)}")
    if _is_pil(img):
        return np.array(img)
    return np.asarray(img)


def is_scaled_image(image):
    if image.dtype == np.uint8:
        return False
    return bool(np.min(image) >= 0 and np.max(image) <= 1)


def infer_channel_dimension_format(image, num_channels=None):
    num_channels = num_channels if num_channels is not None else (1, 3)
    num_channels = (num_channels,) if isinstance(num_channels, int) else num_channels
    if image.ndim == 3:
        first_dim, last_dim = 0, 2
    elif image.ndim == 4:
        first_dim, last_dim = 1, 3
    elif image.ndim == 2:
        return ChannelDimension.NONE  # not reached for RGB input; kept for completeness
    else:
        raise ValueError(f"Unsupported number of image dimensions: {image.ndim}")
    if image.shape[first_dim] in num_channels and image.shape[last_dim] in num_channels:
        return ChannelDimension.FIRST  # transformers warns here and picks FIRST
    if image.shape[first_dim] in num_channels:
        return ChannelDimension.FIRST
    if image.shape[last_dim] in num_channels:
        return ChannelDimension.LAST
    raise ValueError("Unable to infer channel dimension format")


def get_channel_dimension_axis(image, input_data_format=None):
    if input_data_format is None:
        input_data_format = infer_channel_dimension_format(image)
    if input_data_format == ChannelDimension.FIRST:
        return image.ndim - 3
    if input_data_format == ChannelDimension.LAST:
        return image.ndim - 1
    raise ValueError(f"Unsupported data format: {input_data_format}")


def get_image_size(image, channel_dim=None):
    if channel_dim is None:
        channel_dim = infer_channel_dimension_format(image)
    if channel_dim == ChannelDimension.FIRST:
        return image.shape[-2], image.shape[-1]
    if channel_dim == ChannelDimension.LAST:
        return image.shape[-3], image.shape[-2]
    raise ValueError(f"Unsupported data format: {channel_dim}")


def validate_preprocess_arguments(do_rescale=None, rescale_factor=None, do_normalize=None, image_mean=None,
                                  image_std=None, do_pad=None, size_divisibility=None, do_center_crop=None,
                                  crop_size=None, do_resize=None, size=None, resample=None):
    if do_rescale and rescale_factor is None:
        raise ValueError("`rescale_factor` must be specified if `do_rescale` is `True`.")
    if do_normalize and (image_mean is None or image_std is None):
        raise ValueError("`image_mean` and `image_std` must both be specified if `do_normalize` is `True`.")
    if do_resize and (size is None or resample is None):
        raise ValueError("`size` and `resample` must be specified if `do_resize` is `True`.")


# ---------------------------------------------------------------- transformers.image_transforms

def to_channel_dimension_format(image, channel_dim, input_channel_dim=None):
    if not isinstance(image, np.ndarray):
        raise ValueError(f"Input image must be of type np.ndarray, got {type(image)}")
    if input_channel_dim is None:
        input_channel_dim = infer_channel_dimension_format(image)
    target = ChannelDimension(channel_dim)
    if input_channel_dim == target:
        return image
    if target == ChannelDimension.FIRST:
        return image.transpose((2, 0, 1))
    if target == ChannelDimension.LAST:
        return image.transpose((1, 2, 0))
    raise ValueError(f"Unsupported channel dimension format: {channel_dim}")


def rescale(image, scale, data_format=None, dtype=np.float32, input_data_format=None):
    if not isinstance(image, np.ndarray):
        raise ValueError(f"Input image must be of type np.ndarray, got {type(image)}")
    rescaled = image.astype(np.float64) * scale
    if data_format is not None:
        rescaled = to_channel_dimension_format(rescaled, data_format, input_data_format)
    return rescaled.astype(dtype)


def normalize(image, mean, std, data_format=None, input_data_format=None):
    if not isinstance(image, np.ndarray):
        raise ValueError("image must be a numpy array")
    if input_data_format is None:
        input_data_format = infer_channel_dimension_format(image)
    channel_axis = get_channel_dimension_axis(image, input_data_format=input_data_format)
    num_channels = image.shape[channel_axis]
    if not np.issubdtype(image.dtype, np.floating):
        image = image.astype(np.float32)
    mean = list(mean) if isinstance(mean, (list, tuple)) else [mean] * num_channels
    std = list(std) if isinstance(std, (list, tuple)) else [std] * num_channels
    if len(mean) != num_channels or len(std) != num_channels:
        raise ValueError(f"mean/std must have {num_channels} elements")
    mean = np.array(mean, dtype=image.dtype)
    std = np.array(std, dtype=image.dtype)
    if input_data_format == ChannelDimension.LAST:
        image = (image - mean) / std
    else:
        image = ((image.T - mean) / std).T
    if data_format is not None:
        image = to_channel_dimension_format(image, data_format, input_data_format)
    return image


def _rescale_for_pil_conversion(image):
    if image.dtype == np.uint8:
        return False
    if np.allclose(image, image.astype(int)):
        if np.all(0 <= image) and np.all(image <= 255):
            return False
        raise ValueError(f"The image to be converted to a PIL image contains values outside 0..255")
    if np.all(0 <= image) and np.all(image <= 1):
        return True
    raise ValueError("The image to be converted to a PIL image contains values outside 0..1")


def to_pil_image(image, do_rescale=None, input_data_format=None):
    Image = _pil()
    if isinstance(image, Image.Image):
        return image
    image = to_channel_dimension_format(image, ChannelDimension.LAST, input_data_format)
    image = np.squeeze(image, axis=-1) if image.shape[-1] == 1 else image
    do_rescale = _rescale_for_pil_conversion(image) if do_rescale is None else do_rescale
    if do_rescale:
        image = rescale(image, 255)
    image = image.astype(np.uint8)
    return Image.fromarray(image)


def resize(image, size, resample=None, reducing_gap=None, data_format=None, return_numpy=True,
           input_data_format=None):
    Image = _pil()
    resample = resample if resample is not None else Image.Resampling.BILINEAR
    if len(size) != 2:
        raise ValueError("size must have 2 elements")
    if input_data_format is None:
        input_data_format = infer_channel_dimension_format(image)
    data_format = input_data_format if data_format is None else data_format
    do_rescale = False
    if not isinstance(image, Image.Image):
        do_rescale = _rescale_for_pil_conversion(image)
        image = to_pil_image(image, do_rescale=do_rescale, input_data_format=input_data_format)
    height, width = size
    resized = image.resize((width, height), resample=resample, reducing_gap=reducing_gap)
    if return_numpy:
        resized = np.array(resized)
        resized = np.expand_dims(resized, axis=-1) if resized.ndim == 2 else resized
        resized = to_channel_dimension_format(resized, data_format, input_channel_dim=ChannelDimension.LAST)
        resized = rescale(resized, 1 / 255) if do_rescale else resized
    return resized


def convert_to_rgb(image):
    if not _is_pil(image):
        return image
    if image.mode == "RGB":
        return image
    return image.convert("RGB")


# ---------------------------------------------------------------- transformers.image_processing_utils

class BatchFeature(dict):
    def __init__(self, data=None, tensor_type=None):
        super().__init__(data or {})
        if tensor_type is not None:
            self.convert_to_tensors(tensor_type)

    def convert_to_tensors(self, tensor_type):
        tensor_type = TensorType(tensor_type)
        for k, v in list(self.items()):
            if tensor_type == TensorType.PYTORCH:
                import torch
                self[k] = v if isinstance(v, torch.Tensor) else torch.tensor(np.asarray(v))
            else:
                self[k] = np.asarray(v)
        return self

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name)


class BaseImageProcessor:
    def __init__(self, **kwargs):
        kwargs.pop("processor_class", None)
        for k, v in kwargs.items():
            setattr(self, k, v)

    def __call__(self, images, **kwargs):
        return self.preprocess(images, **kwargs)

    def preprocess(self, images, **kwargs):
        raise NotImplementedError

    def rescale(self, image, scale, data_format=None, input_data_format=None, **kwargs):
        return rescale(image, scale=scale, data_format=data_format, input_data_format=input_data_format, **kwargs)

    def normalize(self, image, mean, std, data_format=None, input_data_format=None, **kwargs):
        return normalize(image, mean=mean, std=std, data_format=data_format,
                         input_data_format=input_data_format, **kwargs)


# ---------------------------------------------------------------- configuration / modeling

class PretrainedConfig:
    model_type = ""

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)

    def to_dict(self):
        return dict(self.__dict__)


def _make_pretrained_model():
    from torch import nn

    class PreTrainedModel(nn.Module):
        config_class = None
        base_model_prefix = ""
        main_input_name = "input_ids"

        def __init__(self, config, *inputs, **kwargs):
            super().__init__()
            self.config = config

        def _init_weights(self, module):
            pass

        def post_init(self):
            self.apply(self._init_weights)

    return PreTrainedModel


# ---------------------------------------------------------------- installation

def install():
    """Make `import transformers.…` work for the authors' files. Returns "shim" or the real version."""
    if "transformers" in sys.modules and getattr(sys.modules["transformers"], "__shim__", False):
        return SHIM_NAME
    try:
        import transformers  # noqa: F401  (a real installation wins)
        import transformers.image_transforms  # noqa: F401
        return transformers.__version__
    except ImportError:
        pass
    Image = _pil()

    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        m.__shim__ = True
        sys.modules[name] = m
        return m

    logging_mod = module("transformers.utils.logging", get_logger=_get_logger)
    utils = module("transformers.utils", OptionalDependencyNotAvailable=OptionalDependencyNotAvailable,
                   _LazyModule=_LazyModule, is_torch_available=is_torch_available,
                   is_vision_available=is_vision_available, TensorType=TensorType, logging=logging_mod)
    image_utils = module(
        "transformers.image_utils", IMAGENET_STANDARD_MEAN=IMAGENET_STANDARD_MEAN,
        IMAGENET_STANDARD_STD=IMAGENET_STANDARD_STD, ChannelDimension=ChannelDimension, ImageInput=object,
        PILImageResampling=Image.Resampling, get_image_size=get_image_size,
        infer_channel_dimension_format=infer_channel_dimension_format, is_scaled_image=is_scaled_image,
        make_list_of_images=make_list_of_images, to_numpy_array=to_numpy_array, valid_images=valid_images,
        validate_preprocess_arguments=validate_preprocess_arguments,
        get_channel_dimension_axis=get_channel_dimension_axis)
    image_transforms = module(
        "transformers.image_transforms", convert_to_rgb=convert_to_rgb, resize=resize, rescale=rescale,
        normalize=normalize, to_channel_dimension_format=to_channel_dimension_format, to_pil_image=to_pil_image)
    image_processing_utils = module("transformers.image_processing_utils", BaseImageProcessor=BaseImageProcessor,
                                    BatchFeature=BatchFeature)
    configuration_utils = module("transformers.configuration_utils", PretrainedConfig=PretrainedConfig)
    modeling_utils = module("transformers.modeling_utils", PreTrainedModel=_make_pretrained_model())
    top = module("transformers", __version__=SHIM_NAME, utils=utils, image_utils=image_utils,
                 image_transforms=image_transforms, image_processing_utils=image_processing_utils,
                 configuration_utils=configuration_utils, modeling_utils=modeling_utils,
                 PretrainedConfig=PretrainedConfig, PreTrainedModel=modeling_utils.PreTrainedModel)
    top.__path__ = []
    return SHIM_NAME
