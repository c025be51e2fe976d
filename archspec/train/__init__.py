"""Training and prediction: the course's six steps around any spec.

Takes an `Architecture` and a data source (`data`: a Keras data set name, a `.npz` file in the
`keras.datasets` layout, or a folder with one subfolder per class); checks that the data fits
the network, then trains and predicts (`run`). Keras and TensorFlow are imported inside
functions.
"""

from .data import Data, load_data
from .run import TrainOptions, outputs_logits, predict, train

__all__ = ["Data", "TrainOptions", "load_data", "outputs_logits", "predict", "train"]
