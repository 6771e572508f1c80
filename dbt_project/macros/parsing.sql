{#- One parsing step per kind of value, shared by every source that needs it. -#}

{% macro parse_date(column, format) -%}
    cast(strptime(nullif(trim({{ column }}), ''), '{{ format }}') as date)
{%- endmacro %}

{% macro parse_blade_date(column) -%}
    {{ parse_date(column, '%Y-%b-%d %H:%M:%S') }}
{%- endmacro %}

{% macro parse_boolean(column) -%}
    (lower(trim({{ column }})) in ('true', '1'))
{%- endmacro %}

{% macro normalise_postcode(column) -%}
    {#- Upper case, one space before the three-character inward code: "hr1 2ab" -> "HR1 2AB". -#}
    case
        when length(regexp_replace(upper(coalesce({{ column }}, '')), '[^A-Z0-9]', '', 'g')) >= 5
            then
                left(regexp_replace(upper({{ column }}), '[^A-Z0-9]', '', 'g'),
                    length(regexp_replace(upper({{ column }}), '[^A-Z0-9]', '', 'g')) - 3)
                || ' '
                || right(regexp_replace(upper({{ column }}), '[^A-Z0-9]', '', 'g'), 3)
    end
{%- endmacro %}

{% macro normalise_nhs_number(column) -%}
    nullif(regexp_replace(coalesce({{ column }}, ''), '[\s-]', '', 'g'), '')
{%- endmacro %}

{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}
