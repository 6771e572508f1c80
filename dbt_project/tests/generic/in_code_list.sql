{#- Fails for every value of the column that is not a code of `codelist`
    (linkage_ops/schemas/codelists/<codelist>.yaml, built as reference.code_lists). -#}
{% test in_code_list(model, column_name, codelist) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
        and not {{ in_code_list(codelist, column_name) }}
{% endtest %}
