"""Two simpler demand models that the fine-tuned BERT model is compared with, on the same splits.

* :class:`FrozenEmbeddingDemand` - a logistic (exposures) or Poisson (counts) regression on frozen,
  not fine-tuned, text embeddings (reduced to ``components`` principal components each for
  customers and products), their products, and price interactions;
* :class:`ProductIdDemand` - no text: a per-product intercept and price slope (ridge-shrunk toward
  a shared one), plus market terms. A product never seen in training gets the shared terms.

Both are generalised linear models fitted by L-BFGS with an L2 penalty; neither constrains the
sign of the price response, which is part of what the comparison shows.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from pricegym.encoders.demand_data import DemandData


class _LinearIndex(nn.Module):
    def __init__(self, n_features: int, n_products: int) -> None:
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(n_features))
        self.bias = nn.Parameter(torch.zeros(()))
        self.product_bias = nn.Parameter(torch.zeros(n_products))
        self.product_slope = nn.Parameter(torch.zeros(n_products))

    def forward(self, features, product, relative_price):
        index = features @ self.weights + self.bias
        if self.product_bias.numel():
            index = index + self.product_bias[product] + self.product_slope[product] * relative_price
        return index


def _fit_glm(features: np.ndarray, product: np.ndarray, relative_price: np.ndarray, outcome: np.ndarray,
             response: str, n_products: int, l2: float, iterations: int = 200) -> _LinearIndex:
    model = _LinearIndex(features.shape[1], n_products)
    x, y = torch.as_tensor(features, dtype=torch.float32), torch.as_tensor(outcome, dtype=torch.float32)
    product_t = torch.as_tensor(product, dtype=torch.long)
    price_t = torch.as_tensor(relative_price, dtype=torch.float32)
    optimizer = torch.optim.LBFGS(model.parameters(), max_iter=iterations, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        index = model(x, product_t, price_t)
        if response == "purchase_probability":
            loss = nn.functional.binary_cross_entropy_with_logits(index, y)
        else:
            loss = nn.functional.poisson_nll_loss(index, y, log_input=True)
        penalty = model.weights.square().sum() + model.product_bias.square().sum() + model.product_slope.square().sum()
        loss = loss + l2 * penalty / len(y)
        loss.backward()
        return loss

    optimizer.step(closure)
    return model


def _context_features(data: DemandData) -> np.ndarray:
    weekday = np.eye(7)[data.weekday][:, 1:]
    season = np.eye(4)[data.season][:, 1:]
    return np.column_stack([weekday, season, data.holiday, data.competitor_gap])


def _link(index: np.ndarray, response: str) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-index)) if response == "purchase_probability" else np.exp(index)


class ProductIdDemand:
    """Demand from product identity and price alone (no text)."""

    name = "product id + price (no text)"

    def __init__(self, response: str, l2: float = 1.0) -> None:
        self.response, self.l2 = response, l2

    def fit(self, train: DemandData) -> ProductIdDemand:
        features = np.column_stack([train.relative_price, _context_features(train)])
        self.model = _fit_glm(features, train.product, train.relative_price, train.outcome, self.response,
                              len(train.product_texts), self.l2)
        return self

    @torch.no_grad()
    def predict(self, data: DemandData) -> np.ndarray:
        features = torch.as_tensor(np.column_stack([data.relative_price, _context_features(data)]), dtype=torch.float32)
        product = torch.as_tensor(data.product, dtype=torch.long)
        # a product never seen in training keeps zero own terms (only the L2 penalty touched them)
        index = self.model(features, product, torch.as_tensor(data.relative_price, dtype=torch.float32)).numpy()
        return _link(index.astype(float), self.response)


class FrozenEmbeddingDemand:
    """A GLM on frozen text embeddings (principal components), their products and price interactions."""

    name = "GLM on frozen embeddings"

    def __init__(self, customer_vectors: np.ndarray, product_vectors: np.ndarray, response: str,
                 components: int = 16, l2: float = 1.0) -> None:
        self.response, self.l2 = response, l2
        self.customer_components = _principal_components(customer_vectors, components)
        self.product_components = _principal_components(product_vectors, components)

    def _features(self, data: DemandData) -> np.ndarray:
        customer = self.customer_components[data.customer]
        product = self.product_components[data.product]
        price = data.relative_price[:, None]
        shared = min(customer.shape[1], product.shape[1])  # interactions over the leading components of both
        return np.column_stack([customer, product, customer[:, :shared] * product[:, :shared], price,
                                price * customer, price * product, _context_features(data)])

    def fit(self, train: DemandData) -> FrozenEmbeddingDemand:
        self.model = _fit_glm(self._features(train), train.product, train.relative_price, train.outcome,
                              self.response, 0, self.l2)
        return self

    @torch.no_grad()
    def predict(self, data: DemandData) -> np.ndarray:
        features = torch.as_tensor(self._features(data), dtype=torch.float32)
        index = self.model(features, torch.as_tensor(data.product), torch.as_tensor(data.relative_price)).numpy()
        return _link(index.astype(float), self.response)


def _principal_components(vectors: np.ndarray, components: int) -> np.ndarray:
    centred = vectors - vectors.mean(axis=0)
    _, singular_values, right = np.linalg.svd(centred, full_matrices=False)
    components = min(components, int(np.sum(singular_values > 1e-9 * max(singular_values.max(), 1e-30))))
    scores = centred @ right[:components].T
    return scores / np.maximum(scores.std(axis=0), 1e-9)
