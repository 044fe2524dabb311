"""Reduce a fitted demand model to its simulation-time tables, once.

Every distinct customer text and product text is encoded once; the price-response head then runs
on every (customer text, product) pair, giving the ``intercept`` and ``slope`` tables of
:class:`~pricegym.encoders.demand_tables.DemandTables`. No BERT pass happens after this.
"""

from __future__ import annotations

import numpy as np
import torch

from pricegym.encoders.demand_model import BertDemandModel
from pricegym.encoders.demand_tables import DemandTables
from pricegym.encoders.demand_training import embed_texts
from pricegym.encoders.text_encoder import TextEncoder


@torch.inference_mode()
def head_tables(model: BertDemandModel, customer_vectors: torch.Tensor, product_vectors: torch.Tensor,
                customers_per_chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``beta`` of the head for every customer vector x product vector."""
    model.eval()
    intercepts, slopes = [], []
    n_products = product_vectors.shape[0]
    for start in range(0, customer_vectors.shape[0], customers_per_chunk):
        chunk = customer_vectors[start:start + customers_per_chunk]
        customer_grid = chunk[:, None, :].expand(-1, n_products, -1)
        product_grid = product_vectors[None, :, :].expand(chunk.shape[0], -1, -1)
        intercept, slope = model.head(customer_grid, product_grid)
        intercepts.append(intercept.double().cpu().numpy())
        slopes.append(slope.double().cpu().numpy())
    return np.concatenate(intercepts), np.concatenate(slopes)


def reduce_to_tables(model: BertDemandModel, text_encoder: TextEncoder, customer_texts: tuple[str, ...],
                     product_texts: tuple[str, ...], list_prices: np.ndarray, customer_rows: np.ndarray | None = None,
                     price_ranges: np.ndarray | None = None, slope_std: np.ndarray | None = None,
                     customer_ids: tuple[str, ...] = (), product_ids: tuple[str, ...] = ()) -> DemandTables:
    """The simulation-time tables of ``model``.

    Args:
        customer_texts, product_texts: distinct texts; table columns follow ``product_texts``.
        list_prices: one per product text.
        customer_rows: for each table row, the index of its customer text (None: one row per text),
            e.g. the text of each of a world's customers.
    """
    customer_vectors = embed_texts(text_encoder, customer_texts)
    product_vectors = embed_texts(text_encoder, product_texts)
    return tables_from_vectors(model, customer_vectors, product_vectors, list_prices, customer_rows, price_ranges,
                               slope_std, customer_ids, product_ids)


def tables_from_vectors(model: BertDemandModel, customer_vectors: torch.Tensor, product_vectors: torch.Tensor,
                        list_prices: np.ndarray, customer_rows: np.ndarray | None = None,
                        price_ranges: np.ndarray | None = None, slope_std: np.ndarray | None = None,
                        customer_ids: tuple[str, ...] = (), product_ids: tuple[str, ...] = ()) -> DemandTables:
    """:func:`reduce_to_tables` from the texts' embeddings, when they are already computed."""
    intercept, slope = head_tables(model, customer_vectors, product_vectors)
    if customer_rows is not None:
        intercept, slope = intercept[customer_rows], slope[customer_rows]
        slope_std = None if slope_std is None else slope_std[customer_rows]
    return DemandTables(
        intercept=intercept, slope=slope, list_prices=list_prices, context_weights=model.context.as_weights(),
        reference_effect=model.reference_effect, response=model.response, price_ranges=price_ranges,
        slope_std=slope_std, customer_ids=customer_ids, product_ids=product_ids,
    )
