from django.db import models


class Item(models.Model):
    category = models.IntegerField(db_index=True)
    name = models.TextField()
    price = models.IntegerField()

    class Meta:
        managed = False  # the harness builds the table (bench.common.build_db)
        db_table = "items"
        app_label = "django_app"
