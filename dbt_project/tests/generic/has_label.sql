{#- Fails for every value of the column whose label column is blank: a code outside its code
    list (labels come from linkage_ops/schemas/codelists through the code_label macro), read
    without a second copy of the list's codes. -#}
{% test has_label(model, column_name, label_column) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null and {{ label_column }} is null
{% endtest %}
