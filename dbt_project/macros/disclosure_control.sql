{#-
    Statistical disclosure control for an aggregate in long form: one row per table and cell,
    with the columns in `partition_by` naming the table a cell belongs to (e.g. period,
    measure, breakdown), a count column and an `is_total` column (the table's total row: the
    sum of the table's other cells). `order_by` names the cell within its table and breaks
    ties.

    var('disclosure_control'):
    - 'suppress' (default): counts from 1 to var('disclosure_threshold') - 1 (1-4) are
      withheld (null): primary suppression. Then complementary (secondary) suppression, so
      that no withheld count can be worked out from the counts published beside it. In every
      table with a total row:
        - never exactly one withheld cell (a part, or the total): the total minus the
          published parts would give it away;
        - where the total is published, the withheld parts add up to at least the threshold
          (the total minus the published parts is itself a count, and must not be a small
          one) and are not all 1 (n withheld parts, each at least 1, adding up to n).
      A table breaking the rule withholds its smallest published non-zero part (ties: by
      `order_by`); failing that a part of 0 (which of the withheld parts is the 0 is not
      known); failing that its total. Withholding a cell can break the rule in another table
      that has the same cell (`cell_by`), so the rule is applied again, round after round,
      until every table keeps it. Deterministic: the same counts give the same cells
      withheld, in every mart that builds the same table.
      A table without a total row is not additive (its cells overlap, e.g. cohorts) and gets
      no complementary suppression: a table whose parts add up to a count published anywhere
      (in this mart or another, even if not published here) must carry that count as its
      total row.
    - 'round': every count is rounded to the nearest var('rounding_base') (5).
    Adds `is_suppressed` (true where a count was withheld).

    Optional arguments, for counts published in more than one table or mart:
    - `cell_by`: columns naming a cell across tables: rows with the same values are the same
      count (e.g. a cohort's total in each of its breakdowns, or a count that is part of a row
      and of a column), withheld in all its tables as soon as in one. Without it each row is
      its own cell.
    - `withheld`: a boolean column for counts another mart publishes too (read from that
      mart): true where that mart withholds the count, false where it publishes it, null
      where it has no such count. Withheld there, withheld here; published there, never
      withheld here (withholding it would hide nothing). So the same cell is withheld in each
      mart, and the mart read from must not in turn read this one.
-#}
{% macro disclosure_control(relation, partition_by, count_column, order_by, cell_by=none,
    withheld=none) -%}
    {%- set threshold = var('disclosure_threshold', 5) -%}
    {%- set method = var('disclosure_control', 'suppress') -%}
    {%- if method == 'round' -%}
        select
            {{ star_except([count_column]) }},
            cast(round({{ count_column }} / {{ var('rounding_base', 5) }})
                * {{ var('rounding_base', 5) }} as bigint) as {{ count_column }},
            false as is_suppressed
        from {{ relation }}
    {%- elif method == 'suppress' -%}
        with

        dc_cells as (
            select
                *,
                coalesce({{ count_column }} between 1 and {{ threshold - 1 }}, false)
                {%- if withheld %}
                or coalesce({{ withheld }}, false)
                {%- endif %} as dc_withheld,
                {%- if withheld %}
                coalesce(not {{ withheld }}, false)
                {%- else %}
                false
                {%- endif %} as dc_published_elsewhere,
                0 as dc_round,
                true as dc_changed
            from {{ relation }}
        ),

        -- Rounds until one changes nothing (each round withholds more, so they end).
        dc_last_round as (
            {{ disclosure_control_rounds(partition_by, count_column, order_by, cell_by) | indent(12) }}
        )

        select
            {{ star_except(
                ['dc_withheld', 'dc_published_elsewhere', 'dc_round', 'dc_changed', count_column]) }},
            case when not dc_withheld then {{ count_column }} end as {{ count_column }},
            dc_withheld as is_suppressed
        from dc_last_round
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "disclosure_control must be 'suppress' or 'round', not '" ~ method ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{#-
    One round of complementary suppression, read from `previous` (the cells with dc_withheld,
    dc_published_elsewhere, dc_round, dc_changed; only the rows of a round that changed
    something if `only_changed`): a cell withheld in one table is withheld in all its tables;
    then each table breaking the rule withholds one more cell. Same columns, in the same order.
-#}
{% macro disclosure_control_round(previous, partition_by, count_column, order_by, cell_by,
    only_changed) -%}
    {%- set threshold = var('disclosure_threshold', 5) -%}
    {%- set partition = partition_by | join(', ') -%}
    {%- set cell_order -%}
        {%- for column in order_by.split(',') -%}
            {{ column | trim }} nulls last{{ ', ' if not loop.last }}
        {%- endfor -%}
    {%- endset -%}
    select
        {{ star_except([
            'dc_withheld', 'dc_published_elsewhere', 'dc_round', 'dc_changed',
            'dc_shared', 'dc_fixed', 'dc_tier', 'dc_needs_more', 'dc_rank', 'dc_next',
        ]) }},
        dc_next as dc_withheld,
        dc_published_elsewhere,
        dc_round + 1 as dc_round,
        bool_or(dc_next != dc_decided.dc_withheld) over () as dc_changed
    from (
        select
            *,
            dc_shared or coalesce(dc_needs_more and dc_rank = 1, false) as dc_next
        from (
            select
                *,
                bool_or(is_total) over dc_table
                and count(case when dc_shared then 1 end) over dc_table >= 1
                and (
                    count(case when dc_shared then 1 end) over dc_table = 1
                    or (
                        not bool_or(is_total and dc_shared) over dc_table
                        and (
                            sum(case when dc_shared and not is_total then {{ count_column }} end)
                                over dc_table < {{ threshold }}
                            or sum(case when dc_shared and not is_total then {{ count_column }} end)
                                over dc_table
                            = count(case when dc_shared and not is_total then 1 end)
                                over dc_table
                        )
                    )
                ) as dc_needs_more,
                case
                    when dc_tier is not null
                        then row_number() over (
                            partition by {{ partition }}, dc_tier is not null
                            order by dc_tier, {{ count_column }}, {{ cell_order }}
                        )
                end as dc_rank
            from (
                select
                    *,
                    -- What to withhold next: the smallest non-zero part, else a part of 0 (one
                    -- of the withheld parts is then 0, and which is not known), else the total;
                    -- never a count another mart publishes.
                    case
                        when dc_shared or dc_fixed or {{ count_column }} is null then null
                        when not is_total and {{ count_column }} > 0 then 1
                        when not is_total then 2
                        else 3
                    end as dc_tier
                from (
                    select
                        *,
                        {%- if cell_by %}
                        bool_or(dc_withheld)
                            over (partition by {{ cell_by | join(', ') }})
                            as dc_shared,
                        bool_or(dc_published_elsewhere)
                            over (partition by {{ cell_by | join(', ') }})
                            as dc_fixed
                        {%- else %}
                        dc_withheld as dc_shared,
                        dc_published_elsewhere as dc_fixed
                        {%- endif %}
                    from {{ previous }}
                    {%- if only_changed %}
                    where dc_changed
                    {%- endif %}
                ) as dc_shared_cells
            ) as dc_tiered
            window dc_table as (partition by {{ partition }})
        ) as dc_ranked
    ) as dc_decided
{%- endmacro %}

{#- The last round, from dc_cells (see disclosure_control_round). -#}
{% macro disclosure_control_rounds(partition_by, count_column, order_by, cell_by) -%}
    {{ return(adapter.dispatch('disclosure_control_rounds')(
        partition_by, count_column, order_by, cell_by)) }}
{%- endmacro %}

{% macro default__disclosure_control_rounds(partition_by, count_column, order_by, cell_by) -%}
    {#- A recursive CTE: each round reads the rows of the one before while it changed
        something; the last round is the one that changed nothing. -#}
    with recursive dc_rounds as (
        select * from dc_cells
        union all
        {{ disclosure_control_round(
            'dc_rounds', partition_by, count_column, order_by, cell_by, only_changed=true)
            | indent(8) }}
    )

    select {{ star_except(['dc_last']) }}
    from (select *, max(dc_round) over () as dc_last from dc_rounds) as dc_numbered
    where dc_round = dc_last
{%- endmacro %}

{% macro spark__disclosure_control_rounds(partition_by, count_column, order_by, cell_by) -%}
    {#- Spark refuses window functions over a recursive reference: the rounds are written out,
        up to var('disclosure_control_rounds') (a round after the last change changes
        nothing), and the run fails if the last one still changed something. -#}
    {%- set rounds = var('disclosure_control_rounds', 8) -%}
    with
    {%- for round in range(1, rounds + 1) %}

    dc_round_{{ round }} as (
        {{ disclosure_control_round(
            'dc_cells' if round == 1 else 'dc_round_' ~ (round - 1),
            partition_by, count_column, order_by, cell_by, only_changed=false)
            | indent(8) }}
    ){{ "," if not loop.last }}
    {%- endfor %}

    select * from dc_round_{{ rounds }}
    where assert_true(
        not dc_changed,
        'disclosure control did not settle in {{ rounds }} rounds (var disclosure_control_rounds)'
    ) is null
{%- endmacro %}
