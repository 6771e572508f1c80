{#-
    The first row of `relation` in each `partition_by` group, in `order_by` order: a filter on
    row_number() in a subquery, since Spark SQL has no QUALIFY. Ascending orders of columns
    that may be null say `nulls last` (DuckDB's default; Spark puts nulls first).
-#}
{% macro deduplicate(relation, partition_by, order_by) -%}
    select {{ star_except(['row_in_group']) }}
    from (
        select
            *,
            row_number() over (partition by {{ partition_by }} order by {{ order_by }})
                as row_in_group
        from {{ relation }}
    ) as numbered
    where row_in_group = 1
{%- endmacro %}
