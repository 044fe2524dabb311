"""Two simpler price regressors beside the fine-tuned BERT, and the metrics they are judged by.

* :class:`FrozenEmbeddingRidge` - ridge regression of ``log(price / list_price)`` on frozen
  (not fine-tuned) embeddings of the same input texts, closed form in numpy, its penalty chosen
  on the validation texts;
* :class:`ProductMeanPrice` - each product's mean log price ratio over its training rows (no text,
  no customer, no market); a product never seen in training gets the mean over all rows.

Metrics are on the price itself (``list_price * exp(predicted log ratio)``): RMSE in currency
and MAPE in percent, plus the RMSE of the log ratio, which does not weigh expensive products more.
"""

from __future__ import annotations

import numpy as np

RIDGE_PENALTIES: tuple[float, ...] = (1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0)


class FrozenEmbeddingRidge:
    """Weighted ridge regression on standardised frozen embeddings (intercept not penalised)."""

    name = "ridge on frozen embeddings"

    def __init__(self, penalties: tuple[float, ...] = RIDGE_PENALTIES) -> None:
        self.penalties = penalties

    def fit(self, vectors: np.ndarray, targets: np.ndarray, weights: np.ndarray, validation_vectors: np.ndarray,
            validation_targets: np.ndarray, validation_weights: np.ndarray) -> FrozenEmbeddingRidge:
        """Fit one ridge per penalty and keep the one with the lowest validation error."""
        x = np.asarray(vectors, dtype=np.float64)
        w = np.asarray(weights, dtype=np.float64) / np.sum(weights)
        self.mean = w @ x
        self.scale = np.sqrt(w @ (x - self.mean) ** 2) + 1e-8
        z = (x - self.mean) / self.scale
        self.target_mean = float(w @ targets)
        gram = (z * w[:, None]).T @ z
        moment = (z * w[:, None]).T @ (targets - self.target_mean)
        best = np.inf
        for penalty in self.penalties:
            coefficients = np.linalg.solve(gram + (penalty / len(x)) * np.eye(z.shape[1]), moment)
            self.coefficients = coefficients
            error = np.average((self.predict(validation_vectors) - validation_targets) ** 2,
                               weights=validation_weights)
            if error < best:
                best, best_coefficients, self.penalty = error, coefficients, penalty
        self.coefficients = best_coefficients
        return self

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        """Predicted log price ratios."""
        return self.target_mean + ((np.asarray(vectors, np.float64) - self.mean) / self.scale) @ self.coefficients


class ProductMeanPrice:
    """Per-product mean log price ratio (global mean for unseen products)."""

    name = "per-product mean price"

    def fit(self, product: np.ndarray, log_ratio: np.ndarray, n_products: int) -> ProductMeanPrice:
        counts = np.bincount(product, minlength=n_products)
        totals = np.bincount(product, weights=log_ratio, minlength=n_products)
        self.global_mean = float(np.mean(log_ratio))
        self.means = np.where(counts > 0, totals / np.maximum(counts, 1), self.global_mean)
        return self

    def predict(self, product: np.ndarray) -> np.ndarray:
        """Predicted log price ratios."""
        return self.means[product]


def price_metrics(predicted_log_ratio: np.ndarray, price: np.ndarray, list_price: np.ndarray) -> dict[str, float]:
    """RMSE (currency) and MAPE (%) of the predicted price, and RMSE of the log price ratio."""
    predicted = list_price * np.exp(predicted_log_ratio)
    return {
        "rmse": float(np.sqrt(np.mean((predicted - price) ** 2))),
        "mape_%": float(100.0 * np.mean(np.abs(predicted - price) / price)),
        "rmse_log_ratio": float(np.sqrt(np.mean((predicted_log_ratio - np.log(price / list_price)) ** 2))),
    }
