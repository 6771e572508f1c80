{#-
    Statistical disclosure control for an aggregate in long form: one row per cell, with the
    columns in `partition_by` naming the table a cell belongs to (e.g. period, measure,
    breakdown), a count column and an `is_total` column (the table's total row).

    var('disclosure_control'):
    - 'suppress' (default): counts from 1 to var('disclosure_threshold') - 1 (1-4) are
      withheld (null). If a table then has exactly one withheld cell, the smallest other
      non-zero cell that is not the total is withheld too (secondary suppression), so that the
      total minus the others cannot reveal it.
    - 'round': every count is rounded to the nearest var('rounding_base') (5).
    Adds `is_suppressed` (true where a count was withheld).
-#}
{% macro disclosure_control(relation, partition_by, count_column, order_by) -%}
    {%- set threshold = var('disclosure_threshold', 5) -%}
    {%- set method = var('disclosure_control', 'suppress') -%}
    {%- set partition = partition_by | join(', ') -%}
    {%- if method == 'round' -%}
        select
            * replace (
                cast(round({{ count_column }} / {{ var('rounding_base', 5) }})
                    * {{ var('rounding_base', 5) }} as bigint) as {{ count_column }}
            ),
            false as is_suppressed
        from {{ relation }}
    {%- elif method == 'suppress' -%}
        select
            * exclude (is_primary, withheld_cells, candidate_rank)
                replace (
                    case
                        when is_primary or (withheld_cells = 1 and candidate_rank = 1) then null
                        else {{ count_column }}
                    end as {{ count_column }}
                ),
            is_primary or (withheld_cells = 1 and coalesce(candidate_rank = 1, false))
                as is_suppressed
        from (
            select
                *,
                count(*) filter (where is_primary and not is_total)
                    over (partition by {{ partition }}) as withheld_cells,
                case
                    when not is_total and not is_primary and {{ count_column }} > 0
                        then row_number() over (
                            partition by
                                {{ partition }},
                                not is_total and not is_primary and {{ count_column }} > 0
                            order by {{ count_column }}, {{ order_by }}
                        )
                end as candidate_rank
            from (
                select
                    *,
                    coalesce({{ count_column }} between 1 and {{ threshold - 1 }}, false)
                        as is_primary
                from {{ relation }}
            )
        )
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "disclosure_control must be 'suppress' or 'round', not '" ~ method ~ "'") }}
    {%- endif -%}
{%- endmacro %}
