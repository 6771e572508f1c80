{#-
    A code's label from the code lists (reference.code_lists, written from
    linkage_ops/schemas/codelists/<codelist>.yaml), so that no mart writes a label in SQL.
    Every code column of a mart has a `<column>_label` beside it, made with this macro; a code
    the list does not label gives null (tests/test_pipeline.py fails on such a code).
-#}
{% macro code_label(codelist, code) -%}
    (
        select code_lists.label
        from {{ ref('code_lists') }} as code_lists
        where code_lists.codelist = '{{ codelist }}' and code_lists.code = {{ code }}
    )
{%- endmacro %}

{#-
    The label of a breakdown value in a long-form aggregate (columns breakdown, breakdown_value):
    for the breakdowns that are coded (`codelists`: breakdown -> code list, e.g.
    {'ethnicity': 'ethnicity'}), the code's label; the total ('all'), 'not known' and the values
    of other breakdowns (age bands, districts) are their own label.
-#}
{% macro breakdown_value_label(breakdown, value, codelists) -%}
    case
        {%- for coded, codelist in codelists.items() %}
        when {{ breakdown }} = '{{ coded }}' and {{ value }} not in ('all', 'not known')
            then {{ code_label(codelist, value) }}
        {%- endfor %}
        else {{ value }}
    end
{%- endmacro %}

{#-
    True where `code` is in the code list (reference.code_lists): a code the loader flagged and
    kept (an unknown or an extended ethnicity code) stays in raw and staging, and does not
    reach a column that promises the list's codes (tested with has_label, tests/generic).
-#}
{% macro in_code_list(codelist, code) -%}
    {{ code }} in (
        select code_lists.code
        from {{ ref('code_lists') }} as code_lists
        where code_lists.codelist = '{{ codelist }}'
    )
{%- endmacro %}
