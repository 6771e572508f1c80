{#-
    Every code list the warehouse uses, one row per list and code with its label: the lookup
    published beside the marts, so that a BI tool can label any code column the same way the
    marts' `<column>_label` columns do (both read reference.code_lists).
-#}
with

code_lists as (
    select * from {{ ref('code_lists') }}
),

final as (
    select
        codelist,
        code,
        label,
        category,
        valid_from,
        valid_until
    from code_lists
)

select * from final
