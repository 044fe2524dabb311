"""Pricing policies: rule baselines, the supervised BERT pricing baseline (SB3 agents arrive later).

* :mod:`~pricegym.agents.baselines` - rule-based policies for the Markdown environment.

The supervised pricer, ``pricegym fit-pricer``:

* :mod:`~pricegym.agents.pricing_texts` - the input text (customer, market bucket, product) and
  :class:`~pricegym.agents.pricing_texts.ContextBuckets`;
* :mod:`~pricegym.agents.pricing_rows` - a world's prices charged, as rows and distinct texts;
* :mod:`~pricegym.agents.pricer_model` / :mod:`~pricegym.agents.pricer_training` - the BERT sequence
  regressor and its fine-tuning loop;
* :mod:`~pricegym.agents.pricer_baselines` / :mod:`~pricegym.agents.pricer_evaluation` - ridge on
  frozen embeddings, the per-product mean price, and the held-out metrics;
* :mod:`~pricegym.agents.pricing_table` - :class:`~pricegym.agents.pricing_table.TabulatedPricingPolicy`,
  the policy served from a table;
* :mod:`~pricegym.agents.fit_pricer` - the whole job, its run folder, and
  :func:`~pricegym.agents.fit_pricer.load_pricer`.
"""
