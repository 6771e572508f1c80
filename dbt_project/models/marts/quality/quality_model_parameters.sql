{#-
    The linkage model of the latest run, one row per comparison level: m (how often true
    matches are at that level), u (how often non-matches are) and the weight, log2(m / u),
    that the level adds to a pair's match weight; with the prior and the match and review
    thresholds the run chose (linkage_ops.linkage.thresholds), drawn on the web app's
    match weight histogram.
-#}
with

model_parameters as (
    select * from {{ source('linkage', 'model_parameters') }}
),

final as (
    select
        cast(model_parameters.comparison as string) as comparison,
        cast(model_parameters.level as string) as comparison_level,
        cast(model_parameters.m as double) as m_probability,
        cast(model_parameters.u as double) as u_probability,
        cast(model_parameters.weight as double) as match_weight,
        cast(model_parameters.prior as double) as prior_probability,
        cast(model_parameters.prior_weight as double) as prior_weight,
        cast(model_parameters.match_threshold as double) as match_threshold,
        cast(model_parameters.review_threshold as double) as review_threshold,
        cast(model_parameters.run_id as string) as run_id
    from model_parameters
)

select * from final
