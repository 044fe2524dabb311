"""Pricing policies: rule baselines, the supervised BERT pricing baseline, and SB3 agents' parts.

Rules, one episode at a time (``begin_episode(env)`` after each reset):

* :mod:`~pricegym.agents.baselines` - rule-based policies for the Markdown environment;
* :mod:`~pricegym.agents.discount_baselines` and :mod:`~pricegym.agents.text_discount_rule` - for
  PersonalizedDiscount-v0 (the second personalises by what the text reveals);
* :mod:`~pricegym.agents.competition_baselines` - for Competition-v0.

Rules on whole batches (``predict(observations)`` on a batched VecEnv; what they know beyond the
observations comes from ``vec_env.policy_context()``): :mod:`~pricegym.agents.batched_rules`,
:mod:`~pricegym.agents.batched_markdown_rules`, :mod:`~pricegym.agents.batched_competition_rules`.

SB3 agents: :mod:`~pricegym.agents.features` - the features extractor that reads the observation
layout (LM embeddings through one shared projection, the numeric parts through an MLP).

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
