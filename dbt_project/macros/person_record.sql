{#-
    Select a staging model's identifying fields in the standard person-record shape that
    linkage reads. `fields` maps a standard column to the model's column, falling back to
    `defaults` (the columns every health feed shares); a column neither names is null. The
    record's id in linkage is the model's own `person_record_id` (macro person_record_id), and
    its period end the model's `period_end`, as loaded.
-#}
{% macro person_record(source_name, model, fields, defaults={}) -%}
    {%- set standard = [
        'first_name', 'middle_names', 'last_name', 'former_last_name', 'date_of_birth', 'sex',
        'postcode', 'upn', 'former_upn', 'nhs_number', 'la_child_id'
    ] -%}
    select
        '{{ source_name }}' as source,
        {{ fields.get('source_record_id') }} as source_record_id,
        person_record_id,
        {{ fields.get('period', defaults.get('period')) }} as period,
        period_end,
        {%- for column in standard %}
        {%- set model_column = fields.get(column, defaults.get(column)) %}
        {% if model_column -%}
            {{ model_column }}
        {%- elif column == 'date_of_birth' -%}
            cast(null as date)
        {%- else -%}
            cast(null as string)
        {%- endif %} as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref(model) }}
{%- endmacro %}
